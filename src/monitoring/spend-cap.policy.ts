import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { monthToDateSpendSql } from '../analytics';
import { AppError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { formatMoney, Micros, parseMoney } from '../core/money';
import { TenantsService } from '../tenancy';
import { monthBounds } from './alerts.service';

/** 402 Payment Required: the tenant's monthly_spend_cap would be passed; nothing was stored. */
export class SpendCapReachedError extends AppError {
  constructor(details: { cap: string; month_to_date: string; estimated_cost: string; currency: string }) {
    super(
      'spend_cap_reached',
      `monthly spend cap reached: ${details.month_to_date} of ${details.cap} ${details.currency} spent this month`,
      details,
    );
  }
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The tenant's `monthly_spend_cap`: a send is refused when the month-to-date cost (per message
 * the provider's cost where reported, else the estimate; every status but canceled; from
 * acceptance; read from the stats rollup, not by scanning the month's messages) plus this send's
 * estimate would pass it. Tenants without a cap cost one cached
 * settings read. Concurrent sends racing the last unit of the cap may each pass the check: the
 * overshoot is bounded by what is accepted in that instant (documented in docs/analytics.md, "Spend cap").
 */
@Injectable()
export class SpendCapPolicy {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly tenants: TenantsService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async check(tenantId: number, estimatedMicros: Micros | null): Promise<void> {
    const capSetting = (await this.tenants.ensure(tenantId)).settings.monthly_spend_cap;
    if (capSetting === undefined || capSetting === null) return;
    const cap = parseMoney(capSetting);
    if (cap === null) return;
    const currency = this.config.get('SMS_CURRENCY');
    const month = monthBounds(this.clock.now());
    const [row]: { spent: string }[] = await this.ds.query(
      `SELECT ${monthToDateSpendSql('$1', '$2', '$3', '$4')}::text AS spent`,
      [tenantId, isoDay(month.start), isoDay(month.end), currency],
    );
    const spent = parseMoney(row.spent) ?? 0;
    const estimate = estimatedMicros ?? 0;
    if (spent >= cap || spent + estimate > cap)
      throw new SpendCapReachedError({
        cap: formatMoney(cap),
        month_to_date: formatMoney(spent),
        estimated_cost: formatMoney(estimate),
        currency,
      });
  }
}
