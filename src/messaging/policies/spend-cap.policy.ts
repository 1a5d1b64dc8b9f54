import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock';
import { AppError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { formatMoney, Micros, MonthToDateSpend, parseMoney } from '../../core';
import { TenantLock } from '../../database/advisory-lock';
import type { TenantSettings } from '../../tenancy';

/** 402 Payment Required: the tenant's monthly_spend_cap would be passed; nothing was stored. */
export class SpendCapReachedError extends AppError {
  constructor(spend: { cap: string; month_to_date: string; estimated_cost: string; currency: string }) {
    const message = `monthly spend cap reached: ${spend.month_to_date} of ${spend.cap} ${spend.currency} spent this month`;
    super('spend_cap_reached', message, [{ rule: 'monthly_spend_cap', errors: [message], ...spend }]);
  }
}

/** The reason a campaign recipient past the cap is skipped with. */
export const SPEND_CAP_SKIP = 'spend_cap_reached';

/** What one accept may still spend: the cap, and what the month has used. */
export interface SpendRoom {
  cap: Micros;
  spent: Micros;
  currency: string;
}

/**
 * The tenant's `monthly_spend_cap`, on every way a message is accepted (send, bulk, templated,
 * codes, reminders, campaigns). Month-to-date spend comes through the `MonthToDateSpend` port (per
 * message the provider's cost where reported, else the estimate; every status but canceled; from
 * acceptance). A tenant without a cap costs one cached settings read.
 *
 * Exact under concurrency: for a capped tenant, the accept path takes `lock` (a transaction
 * advisory lock per tenant), reads the spend and inserts in that one transaction, so two accepts
 * of one tenant never both see the same room: the cap is passed by no concurrent accept. What can
 * still pass it is what an estimate cannot know: a provider that reports a higher price than the
 * price list, and messages with no known price (they count as 0 until a price is reported).
 */
@Injectable()
export class SpendCapPolicy {
  constructor(
    private readonly spend: MonthToDateSpend,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The tenant's cap in micro-units, or null when it has none (from the accept's read of its settings). */
  capOf(settings: TenantSettings): Micros | null {
    const setting = settings.monthly_spend_cap;
    if (setting === undefined || setting === null) return null;
    return parseMoney(setting);
  }

  /** Serialises the capped tenant's accepts until `m`'s transaction ends. */
  async lock(m: EntityManager, tenantId: number): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1, $2)', [TenantLock.SpendCap, tenantId]);
  }

  /**
   * The room left this month, read under the tenant's lock (`lock`, then `room`, through `m`): no
   * concurrent accept of the tenant sees it until `m`'s transaction ends.
   */
  async lockedRoom(m: EntityManager, tenantId: number, cap: Micros): Promise<SpendRoom> {
    await this.lock(m, tenantId);
    return this.room(tenantId, cap, m);
  }

  /**
   * Accepts of one capped tenant in one transaction (`m`), in order: the room read once under the
   * lock, each accept all or nothing (`check`) against its own cap (from its read of the settings)
   * and what the ones before it took; a refused one leaves its share to the next. Returns, per
   * accept, its 402 or null when it fits.
   */
  async reserve(
    m: EntityManager,
    tenantId: number,
    asks: readonly { cap: Micros; estimate: Micros }[],
  ): Promise<(SpendCapReachedError | null)[]> {
    if (asks.length === 0) return [];
    const room = await this.lockedRoom(m, tenantId, asks[0].cap);
    let spent = room.spent;
    return asks.map(({ cap, estimate }) => {
      try {
        this.check({ ...room, cap, spent }, estimate);
        spent += estimate;
        return null;
      } catch (e) {
        if (e instanceof SpendCapReachedError) return e;
        throw e;
      }
    });
  }

  /** The room left this month (read through `m` when given, e.g. after `lock`). */
  async room(tenantId: number, cap: Micros, m?: EntityManager): Promise<SpendRoom> {
    const currency = this.config.get('SMS_CURRENCY');
    const spent = await this.spend.read(tenantId, currency, this.clock.now(), m);
    return { cap, spent, currency };
  }

  /** 402 unless all of `estimate` fits: a send or a bulk is all or nothing. */
  check(room: SpendRoom, estimate: Micros): void {
    if (room.spent >= room.cap || room.spent + estimate > room.cap)
      throw new SpendCapReachedError({
        cap: formatMoney(room.cap),
        month_to_date: formatMoney(room.spent),
        estimated_cost: formatMoney(estimate),
        currency: room.currency,
      });
  }

  /**
   * How many of these messages, in order, fit under the cap: a campaign takes what fits and
   * skips the rest (`spend_cap_reached`). A message without a known price counts as 0.
   */
  fit(room: SpendRoom, estimates: readonly (Micros | null)[]): number {
    let spent = room.spent;
    for (let i = 0; i < estimates.length; i++) {
      const next = spent + (estimates[i] ?? 0);
      if (spent >= room.cap || next > room.cap) return i;
      spent = next;
    }
    return estimates.length;
  }
}
