import { monthToDateSpendSql } from '../analytics';
import { CallbacksService } from '../callbacks';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { formatMoney, parseMoney } from '../core/money';
import { SmsRouter } from '../providers';
import { TenantsService } from '../tenancy';
import { postWebhook } from './webhook-sender';

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
  webhook_status: 'none' | 'pending' | 'delivered' | 'failed';
  webhook_attempts: number;
  created_at: Date;
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
/** Webhook attempts before an alert's delivery is given up (`failed`). */
export const WEBHOOK_MAX_ATTEMPTS = 6;
/** Backoff of webhook retries: 30 s, 1, 2, 4, 8 minutes. */
export const WEBHOOK_RETRY_BASE_MS = 30_000;
const WEBHOOK_TIMEOUT_MS = 5_000;
/** Circuit alerts are kept once per provider, change and 5-minute bucket across replicas. */
const CIRCUIT_BUCKET_MS = 5 * 60_000;

/** First instant of the UTC month of `d`, and of the next month. */
export function monthBounds(d: Date): { start: Date; end: Date; label: string } {
  const start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  const end = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  return { start, end, label: start.toISOString().slice(0, 7) };
}

/**
 * Raises alerts exactly once (the unique index `sms_alerts_once`: the insert that went in raises
 * it, racing ones do nothing), logs a warning, and delivers them to the tenant's
 * `alert_webhook_url` as signed JSON with retries (each attempt a row of `sms_alert_deliveries`).
 */
@Injectable()
export class AlertsService implements OnModuleInit {
  private readonly logger = new Logger(AlertsService.name);

  constructor(
    private readonly callbacks: CallbacksService,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly tenants: TenantsService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly router: SmsRouter,
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

  /** Inserts the alert unless it exists; true when this call raised it. */
  async raise(a: NewAlert): Promise<boolean> {
    const webhook = a.tenantId === null ? undefined : await this.webhookUrl(a.tenantId);
    const rows: { id: string }[] = await this.ds.query(
      `INSERT INTO sms_alerts (tenant_id, kind, period, threshold_pct, provider, message, details,
                               webhook_status, next_attempt_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (COALESCE(tenant_id, 0), kind, period, threshold_pct, provider) DO NOTHING
       RETURNING id`,
      [
        a.tenantId,
        a.kind,
        a.period,
        a.thresholdPct ?? 0,
        a.provider ?? '',
        a.message,
        a.details,
        webhook ? 'pending' : 'none',
        webhook ? this.clock.now() : null,
        this.clock.now(),
      ],
    );
    if (rows.length === 0) return false;
    // Raised once (the unique index), so published once: the platform's webhooks hear of it.
    if (a.tenantId !== null) {
      await this.callbacks
        .publish({
          tenantId: a.tenantId,
          type: 'alert.raised',
          key: rows[0].id,
          data: {
            alert_id: rows[0].id,
            kind: a.kind,
            period: a.period,
            message: a.message,
            details: a.details,
          },
        })
        .catch((e: unknown) => this.logger.error({ err: String(e) }, 'alert.raised not published'));
    }
    this.logger.warn(
      { alertId: rows[0].id, tenantId: a.tenantId, kind: a.kind, ...a.details },
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
    const month = monthBounds(now);
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
    const rows: { tenant_id: number; failed: string; finished: string }[] = await this.ds.query(
      `SELECT tenant_id,
              count(*) FILTER (WHERE status IN ('failed', 'undelivered')) AS failed,
              count(*) AS finished
         FROM sms_messages
        WHERE created_at > $1 AND created_at <= $2 AND status IN ('delivered', 'failed', 'undelivered')
        GROUP BY tenant_id
       HAVING count(*) >= $3`,
      [since, now, this.config.get('SMS_FAILURE_ALERT_MIN')],
    );
    const rate = this.config.get('SMS_FAILURE_ALERT_RATE');
    let raised = 0;
    for (const r of rows) {
      const failed = Number(r.failed);
      const finished = Number(r.finished);
      if (failed * 100 <= rate * finished) continue;
      const ok = await this.raise({
        tenantId: r.tenant_id,
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
   * Delivers the alerts whose webhook attempt is due. Each is claimed (SKIP LOCKED, and its next
   * attempt moved past the timeout) so concurrent deliverers never send one attempt twice.
   */
  async deliverDue(now = this.clock.now(), limit = 50): Promise<number> {
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
    const [claimed]: [(AlertRow & { attempt: number })[], number] = await this.ds.query(
      `UPDATE sms_alerts a SET next_attempt_at = $1::timestamptz + interval '5 minutes',
              webhook_attempts = a.webhook_attempts + 1
        WHERE a.id IN (SELECT id FROM sms_alerts
                        WHERE webhook_status = 'pending' AND next_attempt_at <= $1
                        ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING a.*, a.webhook_attempts AS attempt`,
      [now, limit],
    );
    for (const a of claimed) await this.deliverOne(a, now);
    return claimed.length;
  }

  private async deliverOne(a: AlertRow & { attempt: number }, now: Date): Promise<void> {
    const tenantId = a.tenant_id as number;
    const url = await this.webhookUrl(tenantId);
    let result;
    if (!url) result = { statusCode: null, error: 'alert_webhook_url is no longer set', durationMs: 0 };
    else {
      const body = JSON.stringify(alertPayload(a));
      result = await postWebhook(url, body, await this.secret(tenantId), {
        allowInsecure: this.config.get('WEBHOOK_ALLOW_INSECURE'),
        timeoutMs: WEBHOOK_TIMEOUT_MS,
      });
    }
    const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const givenUp = !delivered && (!url || a.attempt >= WEBHOOK_MAX_ATTEMPTS);
    await this.ds.query(
      `INSERT INTO sms_alert_deliveries (alert_id, attempt, status_code, error, duration_ms, at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [a.id, a.attempt, result.statusCode, result.error, result.durationMs, now],
    );
    await this.ds.query(`UPDATE sms_alerts SET webhook_status = $2, next_attempt_at = $3 WHERE id = $1`, [
      a.id,
      delivered ? 'delivered' : givenUp ? 'failed' : 'pending',
      delivered || givenUp ? null : new Date(now.getTime() + WEBHOOK_RETRY_BASE_MS * 2 ** (a.attempt - 1)),
    ]);
    if (!delivered)
      this.logger.warn(
        { alertId: a.id, attempt: a.attempt, statusCode: result.statusCode, err: result.error },
        givenUp ? 'alert webhook given up' : 'alert webhook attempt failed; will retry',
      );
  }

  /** The tenant's webhook signing secret, generated on first use and kept in sms_alert_secrets. */
  async secret(tenantId: number): Promise<string> {
    await this.ds.query(
      'INSERT INTO sms_alert_secrets (tenant_id, secret) VALUES ($1, $2) ON CONFLICT (tenant_id) DO NOTHING',
      [tenantId, newSecret()],
    );
    const [row]: { secret: string }[] = await this.ds.query(
      'SELECT secret FROM sms_alert_secrets WHERE tenant_id = $1',
      [tenantId],
    );
    return row.secret;
  }

  /** A new signing secret for the tenant (replaces the old one); the only time it is shown. */
  async rotateSecret(tenantId: number): Promise<string> {
    const secret = newSecret();
    await this.ds.query(
      `INSERT INTO sms_alert_secrets (tenant_id, secret) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = now()`,
      [tenantId, secret],
    );
    return secret;
  }

  /** A page of alerts, newest first; `tenantId` undefined: every tenant's and the system's. */
  async list(q: { tenantId?: number; kind?: string; before?: string; limit: number }): Promise<AlertRow[]> {
    return this.ds.query(
      `SELECT * FROM sms_alerts
        WHERE ($1::int IS NULL OR tenant_id = $1)
          AND ($2::varchar IS NULL OR kind = $2)
          AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [q.tenantId ?? null, q.kind ?? null, q.before ?? null, q.limit],
    );
  }

  private async webhookUrl(tenantId: number): Promise<string | undefined> {
    const settings = (await this.tenants.ensure(tenantId)).settings;
    return settings.alert_webhook_url ?? undefined;
  }
}

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The JSON an alert webhook receives (and GET /api/sms/alerts shows). */
export function alertPayload(a: AlertRow) {
  return {
    id: String(a.id),
    tenant_id: a.tenant_id,
    kind: a.kind,
    period: a.period,
    threshold_pct: a.threshold_pct || null,
    provider: a.provider || null,
    message: a.message,
    details: a.details,
    created_at: new Date(a.created_at).toISOString(),
  };
}
