import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { RETRY_WINDOW_HOURS } from './events';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  tenantId: number;
  messageId: string | null;
  endpointId: string | null;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  expiresAt: Date;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** A claimed delivery with what the dispatcher needs to send it. */
export interface ClaimedDelivery extends WebhookDelivery {
  payload: { id: string; type: string; created_at: string; data: Record<string, unknown> };
  /** The sealed secret that signs it; null when there is none (endpoint gone, no endpoint for a message URL). */
  secretCiphertext: string | null;
  /**
   * The secret in clear when it is not sealed yet: an alert_webhook_url secret carried over by the
   * migration until start-up seals it (`MigratedSecretSealer`). Exactly one of the two is set.
   */
  secretUnsealed: string | null;
  /** Why it cannot be sent at all (deleted endpoint...), or null. */
  blocked: string | null;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  eventType?: string;
  messageId?: string;
  endpointId?: string;
  from?: Date;
  to?: Date;
  before?: { createdAt: Date; id: string };
  limit: number;
}

interface Row {
  id: string;
  event_id: string;
  event_type: string;
  tenant_id: number;
  message_id: string | null;
  endpoint_id: string | null;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  expires_at: Date;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

const COLUMNS = `d.id, d.event_id, d.event_type, d.tenant_id, d.message_id, d.endpoint_id, d.url, d.status,
  d.attempts, d.next_attempt_at, d.expires_at, d.last_attempt_at, d.last_status_code, d.last_error,
  d.delivered_at, d.created_at`;

/**
 * The outbox `sms_webhook_deliveries` and its attempts. Rows for message status events are written
 * by a database trigger on the message ledger (messaging's); other events by `insertEvent` in the caller's
 * transaction. Tenant reads take the tenant id; the dispatcher's claim is system-wide.
 */
@Injectable()
export class DeliveriesRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * One event to every active endpoint of the tenant subscribed to its type, in `manager`'s
   * transaction; `eventKey` makes it exactly-once per endpoint. Returns how many rows were written.
   */
  async insertEvent(
    manager: EntityManager,
    e: { eventId: string; eventKey: string; type: string; tenantId: number; payload: unknown; at: Date },
  ): Promise<number> {
    const [, count] = await manager.query(
      `INSERT INTO sms_webhook_deliveries
         (event_id, event_key, event_type, tenant_id, endpoint_id, url, payload, next_attempt_at, expires_at,
          created_at)
       SELECT $1::uuid, $2::varchar, $3::varchar, $4::int, e.id, e.url, $5::jsonb, $6::timestamptz,
              $6::timestamptz + make_interval(hours => $7::int), $6::timestamptz
         FROM sms_webhook_endpoints e
        WHERE e.tenant_id = $4::int AND e.active AND e.deleted_at IS NULL
          AND (e.events IS NULL OR $3::varchar = ANY (e.events))
       ON CONFLICT DO NOTHING`,
      [e.eventId, e.eventKey, e.type, e.tenantId, JSON.stringify(e.payload), e.at, RETRY_WINDOW_HOURS],
    );
    return Number(count ?? 0);
  }

  /**
   * Takes up to `limit` due rows (FOR UPDATE SKIP LOCKED: replicas never take the same row) and
   * leases them until `leaseUntil` by moving next_attempt_at, so a worker that dies mid-send
   * leaves them to be retried, never lost. Per-message URLs are signed with the secret of the
   * tenant's oldest active endpoint.
   */
  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    const rows: (Row & {
      payload: ClaimedDelivery['payload'];
      secret_ciphertext: string | null;
      secret_unsealed: string | null;
      blocked: string | null;
    })[] = await this.ds.query(
      `WITH due AS (
         SELECT id FROM sms_webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= $1
          ORDER BY next_attempt_at
          LIMIT $3
          FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE sms_webhook_deliveries d SET next_attempt_at = $2, attempts = d.attempts + 1
           FROM due WHERE d.id = due.id
         RETURNING d.*
       )
       SELECT ${COLUMNS}, d.payload,
              CASE WHEN d.endpoint_id IS NULL THEN signer.secret_ciphertext ELSE e.secret_ciphertext END
                AS secret_ciphertext,
              CASE WHEN d.endpoint_id IS NULL THEN signer.secret_unsealed ELSE e.secret_unsealed END
                AS secret_unsealed,
              CASE WHEN d.endpoint_id IS NOT NULL AND e.deleted_at IS NOT NULL THEN 'endpoint deleted'
                   WHEN d.endpoint_id IS NOT NULL AND NOT e.active THEN 'endpoint inactive'
                   WHEN d.endpoint_id IS NULL AND signer.id IS NULL
                     THEN 'no signing secret: the tenant has no active webhook endpoint'
              END AS blocked
         FROM claimed d
         LEFT JOIN sms_webhook_endpoints e ON e.id = d.endpoint_id
         LEFT JOIN LATERAL (
           SELECT s.id, s.secret_ciphertext, s.secret_unsealed FROM sms_webhook_endpoints s
            WHERE s.tenant_id = d.tenant_id AND s.active AND s.deleted_at IS NULL
            ORDER BY s.created_at, s.id LIMIT 1
         ) signer ON d.endpoint_id IS NULL`,
      [now, leaseUntil, limit],
    );
    return rows.map((r) => ({
      ...toDelivery(r),
      payload: r.payload,
      secretCiphertext: r.secret_ciphertext,
      secretUnsealed: r.secret_unsealed,
      blocked: r.blocked,
    }));
  }

  /**
   * Records one attempt and its outcome in one transaction: delivered (a 2xx; never sent again),
   * failed (given up), or pending again at `nextAttemptAt`.
   */
  async recordAttempt(
    id: string,
    a: {
      at: Date;
      statusCode: number | null;
      error: string | null;
      durationMs: number;
      outcome: DeliveryStatus;
      nextAttemptAt: Date | null;
    },
  ): Promise<void> {
    const error = a.error === null ? null : a.error.slice(0, 500);
    await this.ds.query(
      `WITH attempt AS (
         INSERT INTO sms_webhook_attempts (delivery_id, at, status_code, error, duration_ms)
         VALUES ($1::bigint, $2::timestamptz, $3::int, $4::varchar, $5::int)
       )
       UPDATE sms_webhook_deliveries
          SET status = $6::varchar, last_attempt_at = $2::timestamptz, last_status_code = $3::int,
              last_error = $4::varchar,
              delivered_at = CASE WHEN $6::varchar = 'delivered' THEN $2::timestamptz ELSE delivered_at END,
              next_attempt_at = COALESCE($7::timestamptz, next_attempt_at)
        WHERE id = $1::bigint AND status = 'pending'`,
      [id, a.at, a.statusCode, error, a.durationMs, a.outcome, a.nextAttemptAt],
    );
  }

  /** Per event key (of the tenant given with it), how many of its deliveries are in each status. */
  async countByEventKeys(
    keys: { tenantId: number; eventKey: string }[],
  ): Promise<Map<string, Record<DeliveryStatus, number>>> {
    const out = new Map<string, Record<DeliveryStatus, number>>();
    if (keys.length === 0) return out;
    const rows: { event_key: string; pending: number; delivered: number; failed: number }[] =
      await this.ds.query(
        `SELECT d.event_key,
                (count(*) FILTER (WHERE d.status = 'pending'))::int AS pending,
                (count(*) FILTER (WHERE d.status = 'delivered'))::int AS delivered,
                (count(*) FILTER (WHERE d.status = 'failed'))::int AS failed
           FROM unnest($1::int[], $2::varchar[]) AS k(tenant_id, event_key)
           JOIN sms_webhook_deliveries d ON d.event_key = k.event_key AND d.tenant_id = k.tenant_id
          GROUP BY d.event_key`,
        [keys.map((k) => k.tenantId), keys.map((k) => k.eventKey)],
      );
    for (const r of rows)
      out.set(r.event_key, { pending: r.pending, delivered: r.delivered, failed: r.failed });
    return out;
  }

  /** Newest first. */
  async list(tenantId: number, f: DeliveryFilter): Promise<WebhookDelivery[]> {
    const where = ['d.tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.status !== undefined) add('d.status = ?', f.status);
    if (f.eventType !== undefined) add('d.event_type = ?', f.eventType);
    if (f.messageId !== undefined) add('d.message_id = ?::uuid', f.messageId);
    if (f.endpointId !== undefined) add('d.endpoint_id = ?::uuid', f.endpointId);
    if (f.from !== undefined) add('d.created_at >= ?', f.from);
    if (f.to !== undefined) add('d.created_at < ?', f.to);
    if (f.before) {
      params.push(f.before.createdAt, f.before.id);
      where.push(`(d.created_at, d.id) < ($${params.length - 1}, $${params.length}::bigint)`);
    }
    params.push(f.limit);
    const rows: Row[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM sms_webhook_deliveries d WHERE ${where.join(' AND ')}
        ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toDelivery);
  }

  async attempts(
    tenantId: number,
    id: string,
  ): Promise<{ at: Date; statusCode: number | null; error: string | null; durationMs: number }[]> {
    const rows: { at: Date; status_code: number | null; error: string | null; duration_ms: number }[] =
      await this.ds.query(
        `SELECT a.at, a.status_code, a.error, a.duration_ms FROM sms_webhook_attempts a
           JOIN sms_webhook_deliveries d ON d.id = a.delivery_id
          WHERE d.tenant_id = $1 AND d.id = $2 ORDER BY a.at, a.id`,
        [tenantId, id],
      );
    return rows.map((r) => ({
      at: r.at,
      statusCode: r.status_code,
      error: r.error,
      durationMs: r.duration_ms,
    }));
  }

  async findOne(tenantId: number, id: string): Promise<WebhookDelivery | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const rows: Row[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM sms_webhook_deliveries d WHERE d.tenant_id = $1 AND d.id = $2`,
      [tenantId, id],
    );
    return rows.length ? toDelivery(rows[0]) : null;
  }

  /**
   * Sends a delivered or failed event again (same event id, so receivers can deduplicate), with a
   * fresh retry window. A pending one is left alone: returns null.
   */
  async replay(tenantId: number, id: string, now: Date): Promise<WebhookDelivery | null> {
    const [rows]: [Row[], number] = await this.ds.query(
      `UPDATE sms_webhook_deliveries d
          SET status = 'pending', next_attempt_at = $3::timestamptz, expires_at = $3::timestamptz + make_interval(hours => $4::int),
              delivered_at = NULL
        WHERE d.tenant_id = $1 AND d.id = $2 AND d.status <> 'pending'
        RETURNING ${COLUMNS}`,
      [tenantId, id, now, RETRY_WINDOW_HOURS],
    );
    return rows.length ? toDelivery(rows[0]) : null;
  }
}

function toDelivery(r: Row): WebhookDelivery {
  return {
    id: String(r.id),
    eventId: r.event_id,
    eventType: r.event_type,
    tenantId: r.tenant_id,
    messageId: r.message_id,
    endpointId: r.endpoint_id,
    url: r.url,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    expiresAt: r.expires_at,
    lastAttemptAt: r.last_attempt_at,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
    createdAt: r.created_at,
  };
}
