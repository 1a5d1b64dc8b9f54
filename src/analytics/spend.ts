import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Micros, MonthToDateSpend, parseMoney, SqlRunner, utcMonth } from '../core';

/**
 * Month-to-date spend as one SQL scalar subquery, read from the coarse stats rollup plus the
 * deltas not folded yet (exact at the statement's snapshot), never by scanning the message ledger.
 *
 * Per message it is the provider's cost where one was reported, else the estimate, counted from
 * acceptance and for every status but canceled and expired (never sent, never charged): over rollup rows that is
 * `actual_cost + estimated_cost - actual_estimated` (the estimates of the messages with a reported
 * cost are replaced by that cost). Days are the UTC days of acceptance, so a UTC month is
 * `day >= first day AND day < first day of the next month`.
 *
 * Each argument is an SQL expression (a column such as `t.id` or a `$n` parameter).
 */
export function monthToDateSpendSql(
  tenantId: string,
  monthStart: string,
  monthEnd: string,
  currency: string,
): string {
  const where = `tenant_id = ${tenantId} AND day >= (${monthStart})::date AND day < (${monthEnd})::date
      AND currency = ${currency} AND status NOT IN ('canceled', 'expired')`;
  return `(SELECT COALESCE(sum(actual_cost + estimated_cost - actual_estimated), 0)
     FROM (SELECT actual_cost, estimated_cost, actual_estimated FROM sms_tenant_daily_rollup WHERE ${where}
           UNION ALL
           SELECT actual_cost, estimated_cost, actual_estimated FROM sms_rollup_deltas WHERE ${where}) spend)`;
}

/** The spend cap's port, over the coarse rollup and its unfolded deltas (exact at one snapshot). */
@Injectable()
export class RollupSpend extends MonthToDateSpend {
  constructor(@InjectDataSource() private readonly ds: DataSource) {
    super();
  }

  async read(tenantId: number, currency: string, at: Date, db: SqlRunner = this.ds): Promise<Micros> {
    const month = utcMonth(at);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const [row] = (await db.query(`SELECT ${monthToDateSpendSql('$1', '$2', '$3', '$4')}::text AS spent`, [
      tenantId,
      day(month.start),
      day(month.end),
      currency,
    ])) as { spent: string }[];
    return parseMoney(row.spent) ?? 0;
  }
}
