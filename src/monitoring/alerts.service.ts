import { monthToDateSpendSql } from '../analytics';
import { CallbacksService, EventDeliveryCounts } from '../callbacks';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { formatMoney, parseMoney, utcMonth } from '../core';
import { LedgerQueries } from '../messaging';
import { SmsRouter } from '../providers';

export type AlertKind = 'cost_threshold' | 'failure_rate' | 'circuit_open' | 'circuit_closed';

export interface AlertRow {
  id: string;
  tenant_id: number | null;
  kind: AlertKind;
  period: string;
  threshold_pct: number;
  provider: string;
  message: string;
  details: Record<string, unknown>;
  created_at: Date;
}

/** An alert with how the deliveries of its `alert.raised` event stand (all 0 for system alerts). */
export interface ListedAlert extends AlertRow {
  deliveries: EventDeliveryCounts;
}

export interface NewAlert {
  tenantId: number | null;
  kind: AlertKind;
  period: string;
  thresholdPct?: number;
  provider?: string;
  message: string;
  details: Record<string, unknown>;
}

/** Cost alerts fire at these shares of `cost_alert_threshold`. */
export const COST_THRESHOLDS_PCT = [80, 100] as const;
/** Failure-rate window. */
export const FAILURE_WINDOW_MINUTES = 15;
/** Circuit alerts are kept once per provider, change and 5-minute bucket across replicas. */
const CIRCUIT_BUCKET_MS = 5 * 60_000;

/**
 * Raises alerts exactly once (the unique index `sms_alerts_once`: the insert that went in raises
 * it, racing ones do nothing) and logs a warning. A tenant's alert is an `alert.raised` event of
 * the callbacks outbox, published in the transaction that inserts it: delivery, signing, retries
 * and replay are the callbacks module's, to the tenant's endpoints subscribed to it.
 */
@Injectable()
export class AlertsService implements OnModuleInit {
  private readonly logger = new Logger(AlertsService.name);

  constructor(
    private readonly callbacks: CallbacksService,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly router: SmsRouter,
    private readonly ledger: LedgerQueries,
  ) {}

  onModuleInit(): void {
    // Provider availability: a circuit that opens, and closes again, is an alert (no tenant).
    this.router.observe({
      circuit: (c) => {
        const bucket = Math.floor(c.at.getTime() / CIRCUIT_BUCKET_MS) * CIRCUIT_BUCKET_MS;
        this.raise({
          tenantId: null,
          kind: c.open ? 'circuit_open' : 'circuit_closed',
          provider: c.provider,
          period: new Date(bucket).toISOString(),
          message: `provider ${c.provider} circuit ${c.open ? 'opened' : 'closed again'}`,
          details: { provider: c.provider, at: c.at.toISOString() },
        }).catch((e: unknown) => this.logger.warn({ err: String(e) }, 'circuit alert not recorded'));
      },
    });
  }

  /**
   * Inserts the alert unless it exists and, for a tenant's alert, publishes `alert.raised` in the
   * same transaction: both or neither, so the event exists exactly when the alert does. True when
   * this call raised it.
   */
  async raise(a: NewAlert): Promise<boolean> {
    const thresholdPct = a.thresholdPct ?? 0;
    const id = await this.ds.transaction(async (m) => {
      const rows: { id: string }[] = await m.query(
        `INSERT INTO sms_alerts (tenant_id, kind, period, threshold_pct, provider, message, details, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (COALESCE(tenant_id, 0), kind, period, threshold_pct, provider) DO NOTHING
         RETURNING id`,
        [
          a.tenantId,
          a.kind,
          a.period,
          thresholdPct,
          a.provider ?? '',
          a.message,
          a.details,
          this.clock.now(),
        ],
      );
      if (rows.length === 0) return null;
      if (a.tenantId !== null)
        await this.callbacks.publish(
          {
            tenantId: a.tenantId,
            type: 'alert.raised',
            key: rows[0].id,
            data: {
              alert_id: rows[0].id,
              kind: a.kind,
              period: a.period,
              threshold_pct: thresholdPct || null,
              message: a.message,
              details: a.details,
            },
          },
          m,
        );
      return rows[0].id;
    });
    if (id === null) return false;
    this.logger.warn(
      { alertId: id, tenantId: a.tenantId, kind: a.kind, ...a.details },
      `alert: ${a.message}`,
    );
    return true;
  }

  /**
   * Cost thresholds of every active tenant with `cost_alert_threshold`: month-to-date spend is
   * the exact numeric sum, per message, of the provider's cost where reported else the estimate,
   * from acceptance (any status but canceled), in SMS_CURRENCY, read from the stats rollup (not a
   * scan of the month's messages). Returns the alerts raised.
   */
  async evaluateCost(now = this.clock.now(), onlyTenant?: number): Promise<number> {
    const month = utcMonth(now);
    const rows: { tenant_id: number; threshold: string; spent: string }[] = await this.ds.query(
      `SELECT t.id AS tenant_id, t.settings->>'cost_alert_threshold' AS threshold,
              ${monthToDateSpendSql('t.id', '$1', '$2', '$3')}::text AS spent
         FROM tenants t
        WHERE t.active AND jsonb_typeof(t.settings->'cost_alert_threshold') = 'number'
          AND ($4::int IS NULL OR t.id = $4)`,
      [
        month.start.toISOString().slice(0, 10),
        month.end.toISOString().slice(0, 10),
        this.config.get('SMS_CURRENCY'),
        onlyTenant ?? null,
      ],
    );
    let raised = 0;
    for (const r of rows) {
      const threshold = parseMoney(r.threshold);
      const spent = parseMoney(r.spent);
      if (threshold === null || spent === null || threshold <= 0) continue;
      for (const pct of COST_THRESHOLDS_PCT) {
        if (spent * 100 < threshold * pct) continue; // integers: exact
        const ok = await this.raise({
          tenantId: r.tenant_id,
          kind: 'cost_threshold',
          period: month.label,
          thresholdPct: pct,
          message: `month-to-date cost ${formatMoney(spent)} ${this.config.get('SMS_CURRENCY')} reached ${pct}% of the alert threshold ${formatMoney(threshold)}`,
          details: {
            month: month.label,
            threshold_pct: pct,
            threshold: formatMoney(threshold),
            month_to_date: formatMoney(spent),
            currency: this.config.get('SMS_CURRENCY'),
          },
        });
        if (ok) raised += 1;
      }
    }
    return raised;
  }

  /**
   * Failure rate per tenant over the messages accepted in the last 15 minutes that have finished
   * (delivered, undelivered, failed): over SMS_FAILURE_ALERT_RATE percent failed or undelivered,
   * with at least SMS_FAILURE_ALERT_MIN finished, raises one alert per tenant per 15-minute window.
   */
  async evaluateFailures(now = this.clock.now()): Promise<number> {
    const since = new Date(now.getTime() - FAILURE_WINDOW_MINUTES * 60_000);
    const windowMs = FAILURE_WINDOW_MINUTES * 60_000;
    const period = new Date(Math.floor(now.getTime() / windowMs) * windowMs).toISOString();
    const rows = await this.ledger.failureCounts(since, now, this.config.get('SMS_FAILURE_ALERT_MIN'));
    const rate = this.config.get('SMS_FAILURE_ALERT_RATE');
    let raised = 0;
    for (const { tenantId, failed, finished } of rows) {
      if (failed * 100 <= rate * finished) continue;
      const ok = await this.raise({
        tenantId,
        kind: 'failure_rate',
        period,
        message: `${failed} of ${finished} messages of the last ${FAILURE_WINDOW_MINUTES} minutes failed (over ${rate}%)`,
        details: {
          failed,
          finished,
          rate_pct: Math.round((failed * 10000) / finished) / 100,
          threshold_pct: rate,
        },
      });
      if (ok) raised += 1;
    }
    return raised;
  }

  /**
   * A page of alerts, newest first, each with how its `alert.raised` deliveries stand;
   * `tenantId` undefined: every tenant's and the system's.
   */
  async list(q: {
    tenantId?: number;
    kind?: string;
    before?: string;
    limit: number;
  }): Promise<ListedAlert[]> {
    const rows: AlertRow[] = await this.ds.query(
      `SELECT id, tenant_id, kind, period, threshold_pct, provider, message, details, created_at FROM sms_alerts
        WHERE ($1::int IS NULL OR tenant_id = $1)
          AND ($2::varchar IS NULL OR kind = $2)
          AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [q.tenantId ?? null, q.kind ?? null, q.before ?? null, q.limit],
    );
    const counts = await this.callbacks.deliveryCounts(
      'alert.raised',
      rows.flatMap((r) => (r.tenant_id === null ? [] : [{ tenantId: r.tenant_id, key: String(r.id) }])),
    );
    return rows.map((r) => ({
      ...r,
      deliveries: counts.get(String(r.id)) ?? { pending: 0, delivered: 0, failed: 0 },
    }));
  }
}

/** What GET /api/sms/alerts shows of an alert. */
export function toAlertDto(a: ListedAlert) {
  return {
    id: String(a.id),
    tenant_id: a.tenant_id,
    kind: a.kind,
    period: a.period,
    threshold_pct: a.threshold_pct || null,
    provider: a.provider || null,
    message: a.message,
    details: a.details,
    deliveries: a.deliveries,
    created_at: new Date(a.created_at).toISOString(),
  };
}
