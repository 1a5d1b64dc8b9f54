import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { LockKey } from '../database/advisory-lock';
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
  /** What it is sent to, for fairness and health: its endpoint's id, or `url:<tenant>:<host>` (`sms_webhook_target`). */
  target: string;
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

/** A delivery's target in SQL (the indexed function of migration 1764002500000), for the row alias `d`. */
const TARGET = (d: string) => `sms_webhook_target(${d}.endpoint_id, ${d}.tenant_id, ${d}.url)`;

/** When a target that keeps failing is backed off and paused (the WEBHOOK_ENDPOINT_* settings). */
export interface HealthPolicy {
  /** Failed attempts in a row from which the target is backed off. */
  backoffAfter: number;
  /** Failed attempts in a row that pause an endpoint (a per-message URL target is never paused). */
  pauseAfter: number;
  /** The first backoff; doubled with each further failure, capped at one hour. */
  backoffBaseMs: number;
}

/** What one attempt says about its target: a failure (no answer or not 2xx), a success, or nothing (never sent). */
export type TargetVerdict = 'failure' | 'success' | null;

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
   * Takes due rows for `limit` free slots, fairly, and leases them until `leaseUntil` (moving
   * next_attempt_at, so a worker that dies mid-send leaves them to be retried, never lost):
   *
   * - per target (an endpoint, or a tenant's per-message URL host), at most `perTarget` in flight:
   *   its rows leased into the future, whoever leased them, count against it;
   * - round-robin: each target with due rows gets its oldest one before any gets a second, and the
   *   targets come in key order starting after `after` (the last target the previous claim
   *   reached), so when there are more targets than slots each gets its turn;
   * - a paused target, or one backed off until later, takes none (its rows wait); the rows of a
   *   deleted or inactive endpoint are taken without the cap (they fail at once, sending nothing).
   *
   * One statement under the transaction-level advisory lock `CallbackClaim`: claims run one at a
   * time across replicas, so each counts the leases of the claims before it and the cap holds
   * cluster-wide. FOR UPDATE SKIP LOCKED keeps a row from two claims whatever else holds it. The
   * targets are walked by the (target, next_attempt_at) index: one probe per target with pending
   * rows, not a scan of the due rows. Per-message URLs are signed with the secret of the tenant's
   * oldest active endpoint.
   */
  async claimDue(c: {
    now: Date;
    leaseUntil: Date;
    limit: number;
    perTarget: number;
    after: string | null;
  }): Promise<{ deliveries: ClaimedDelivery[]; lastTarget: string | null }> {
    type ClaimedRow = Row & {
      payload: ClaimedDelivery['payload'];
      secret_ciphertext: string | null;
      secret_unsealed: string | null;
      blocked: string | null;
      target: string;
      turn: string;
    };
    const rows: ClaimedRow[] = await this.ds.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [LockKey.CallbackClaim]);
      return m.query(
        `WITH RECURSIVE targets(target) AS (
           (SELECT ${TARGET('d')} FROM sms_webhook_deliveries d
             WHERE d.status = 'pending' ORDER BY 1 LIMIT 1)
           UNION ALL
           SELECT (SELECT ${TARGET('d')} FROM sms_webhook_deliveries d
                    WHERE d.status = 'pending' AND ${TARGET('d')} > t.target ORDER BY 1 LIMIT 1)
             FROM targets t WHERE t.target IS NOT NULL
         ), busy AS (
           SELECT ${TARGET('d')} AS target, count(*)::int AS n
             FROM sms_webhook_deliveries d WHERE d.leased_until > $1::timestamptz GROUP BY 1
         ), open AS (
           SELECT t.target,
                  CASE WHEN e.deleted_at IS NOT NULL OR NOT e.active THEN $3::int
                       ELSE $4::int - COALESCE(b.n, 0) END AS room
             FROM targets t
             LEFT JOIN sms_webhook_endpoints e
               ON e.id = CASE WHEN t.target LIKE 'url:%' THEN NULL ELSE t.target::uuid END
             LEFT JOIN sms_webhook_targets h ON h.target = t.target
             LEFT JOIN busy b ON b.target = t.target
            WHERE t.target IS NOT NULL
              AND (e.deleted_at IS NOT NULL OR NOT e.active OR h.target IS NULL
                   OR (h.paused_at IS NULL AND (h.backoff_until IS NULL OR h.backoff_until <= $1::timestamptz)))
         ), ready AS (
           SELECT o.target, o.room,
                  row_number() OVER (ORDER BY COALESCE(o.target <= $5::text, false), o.target) AS turn
             FROM open o
            WHERE o.room > 0
              AND EXISTS (SELECT 1 FROM sms_webhook_deliveries d
                           WHERE ${TARGET('d')} = o.target AND d.status = 'pending'
                             AND d.next_attempt_at <= $1::timestamptz)
            ORDER BY turn LIMIT $3::int
         ), picked AS (
           SELECT p.id, r.target, r.turn,
                  row_number() OVER (PARTITION BY r.target ORDER BY p.next_attempt_at, p.id) AS rank
             FROM ready r
             CROSS JOIN LATERAL (
               SELECT d.id, d.next_attempt_at FROM sms_webhook_deliveries d
                WHERE ${TARGET('d')} = r.target AND d.status = 'pending'
                  AND d.next_attempt_at <= $1::timestamptz
                ORDER BY d.next_attempt_at
                LIMIT r.room
                FOR UPDATE SKIP LOCKED
             ) p
         ), due AS (
           SELECT id, target, turn FROM picked ORDER BY rank, turn LIMIT $3::int
         ), claimed AS (
           UPDATE sms_webhook_deliveries d
              SET next_attempt_at = $2::timestamptz, leased_until = $2::timestamptz, attempts = d.attempts + 1
             FROM due WHERE d.id = due.id
           RETURNING d.*, due.target, due.turn
         )
         SELECT ${COLUMNS}, d.payload, d.target, d.turn,
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
        [c.now, c.leaseUntil, c.limit, c.perTarget, c.after],
      );
    });
    let last: ClaimedRow | undefined;
    for (const r of rows) if (!last || Number(r.turn) > Number(last.turn)) last = r;
    return {
      deliveries: rows.map((r) => ({
        ...toDelivery(r),
        target: r.target,
        payload: r.payload,
        secretCiphertext: r.secret_ciphertext,
        secretUnsealed: r.secret_unsealed,
        blocked: r.blocked,
      })),
      lastTarget: last?.target ?? null,
    };
  }

  /**
   * Records one attempt and its outcome in one statement: the attempt, the row (delivered: a 2xx,
   * never sent again; failed: given up; or pending again at `nextAttemptAt`; its lease ends) and
   * the verdict on its target. A success forgets the target's failures (and lifts a pause: it
   * answers). A failure counts one more in a row; from `backoffAfter` on the target takes nothing
   * until base × 2^(failures − backoffAfter) from now (at most one hour), and at `pauseAfter` an
   * endpoint is paused (no backoff then: it waits for a replay or a resume). Returns the pause
   * when this attempt caused it.
   */
  async recordAttempt(
    d: { id: string; target: string; tenantId: number; endpointId: string | null },
    a: {
      at: Date;
      statusCode: number | null;
      error: string | null;
      durationMs: number;
      outcome: DeliveryStatus;
      nextAttemptAt: Date | null;
      verdict: TargetVerdict;
    },
    policy: HealthPolicy,
  ): Promise<{ pausedNow: { failures: number; reason: string } | null }> {
    const error = a.error === null ? null : a.error.slice(0, 500);
    const params: unknown[] = [d.id, a.at, a.statusCode, error, a.durationMs, a.outcome, a.nextAttemptAt];
    let health = '';
    if (a.verdict === 'success') {
      params.push(d.target);
      health = `, health AS (DELETE FROM sms_webhook_targets WHERE target = $8::text)`;
    } else if (a.verdict === 'failure') {
      params.push(
        d.target,
        d.tenantId,
        d.endpointId,
        policy.backoffAfter,
        policy.pauseAfter,
        policy.backoffBaseMs,
      );
      // n: this failure's number in the row. Every expression below reads the row as it was.
      const pausesAt = (n: string) =>
        `CASE WHEN $10::uuid IS NOT NULL AND ${n} >= $12::int THEN $2::timestamptz END`;
      const backoffUntil = (n: string) =>
        `CASE WHEN ${n} >= $11::int THEN $2::timestamptz + make_interval(secs =>
           LEAST(3600000, $13::int * power(2, LEAST(20, ${n} - $11::int))) / 1000.0) END`;
      const reason = (n: string) =>
        `format('%s failed attempts in a row; the last: %s', ${n}, COALESCE($4::varchar, 'HTTP ' || $3::int))`;
      const n = 'h.consecutive_failures + 1';
      health = `, health AS (
         INSERT INTO sms_webhook_targets AS h
           (target, tenant_id, endpoint_id, consecutive_failures, backoff_until, paused_at, paused_reason,
            last_error, updated_at)
         VALUES ($8::text, $9::int, $10::uuid, 1,
                 CASE WHEN ${pausesAt('1')} IS NULL THEN ${backoffUntil('1')} END,
                 ${pausesAt('1')},
                 CASE WHEN ${pausesAt('1')} IS NOT NULL THEN ${reason('1')} END,
                 COALESCE($4::varchar, 'HTTP ' || $3::int), $2::timestamptz)
         ON CONFLICT (target) DO UPDATE SET
           consecutive_failures = ${n},
           paused_at = COALESCE(h.paused_at, ${pausesAt(n)}),
           paused_reason = COALESCE(h.paused_reason, CASE WHEN ${pausesAt(n)} IS NOT NULL THEN ${reason(n)} END),
           backoff_until = CASE WHEN COALESCE(h.paused_at, ${pausesAt(n)}) IS NULL
                                THEN GREATEST(h.backoff_until, ${backoffUntil(n)}) END,
           last_error = EXCLUDED.last_error,
           updated_at = EXCLUDED.updated_at
         RETURNING h.consecutive_failures, h.paused_at = $2::timestamptz AS paused_now, h.paused_reason
       )`;
    }
    const rows: { consecutive_failures: number; paused_now: boolean; paused_reason: string | null }[] =
      await this.ds.query(
        `WITH attempt AS (
           INSERT INTO sms_webhook_attempts (delivery_id, at, status_code, error, duration_ms)
           VALUES ($1::bigint, $2::timestamptz, $3::int, $4::varchar, $5::int)
         ), updated AS (
           UPDATE sms_webhook_deliveries
              SET status = $6::varchar, last_attempt_at = $2::timestamptz, last_status_code = $3::int,
                  last_error = $4::varchar, leased_until = NULL,
                  delivered_at = CASE WHEN $6::varchar = 'delivered' THEN $2::timestamptz ELSE delivered_at END,
                  next_attempt_at = COALESCE($7::timestamptz, next_attempt_at)
            WHERE id = $1::bigint AND status = 'pending'
         )${health}
         ${a.verdict === 'failure' ? 'SELECT * FROM health' : 'SELECT NULL AS consecutive_failures LIMIT 0'}`,
        params,
      );
    const h = rows[0];
    return {
      pausedNow:
        h?.paused_now && h.paused_reason !== null
          ? { failures: h.consecutive_failures, reason: h.paused_reason }
          : null,
    };
  }

  /**
   * Pending deliveries of paused endpoints whose retry window has ended fail, unsent (a paused
   * endpoint keeps its deliveries, but not past their window). Those in flight are left to their
   * attempt. Returns how many.
   */
  async expirePaused(now: Date): Promise<number> {
    const [, n] = await this.ds.query(
      `UPDATE sms_webhook_deliveries d
          SET status = 'failed', last_error = 'expired while its endpoint was paused', leased_until = NULL
         FROM sms_webhook_targets h
        WHERE h.paused_at IS NOT NULL AND ${TARGET('d')} = h.target
          AND d.status = 'pending' AND d.expires_at <= $1::timestamptz
          AND (d.leased_until IS NULL OR d.leased_until <= $1::timestamptz)`,
      [now],
    );
    return Number(n ?? 0);
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
   * Sends an event again (same event id, so receivers can deduplicate) and resumes its target:
   * - a delivered or failed one: pending again now, with a fresh retry window;
   * - a pending one whose target is paused or backed off: due now (unless in flight);
   * - a pending one of a healthy target: nothing (`'pending'`).
   * Resuming forgets the target's failures, backoff and pause. Null when there is no such delivery.
   */
  async replay(
    tenantId: number,
    id: string,
    now: Date,
  ): Promise<{ delivery: WebhookDelivery; resumed: boolean } | 'pending' | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    return this.ds.transaction(async (m) => {
      const found: {
        status: DeliveryStatus;
        target: string;
        held: boolean | null;
        paused: boolean | null;
      }[] = await m.query(
        `SELECT d.status, t.target, h.paused_at IS NOT NULL OR h.backoff_until > $3::timestamptz AS held,
                h.paused_at IS NOT NULL AS paused
           FROM sms_webhook_deliveries d
          CROSS JOIN LATERAL (SELECT ${TARGET('d')} AS target) t
           LEFT JOIN sms_webhook_targets h ON h.target = t.target
          WHERE d.tenant_id = $1 AND d.id = $2
          FOR UPDATE OF d`,
        [tenantId, id, now],
      );
      if (found.length === 0) return null;
      const [{ status, target, held, paused }] = found;
      if (status === 'pending' && !held) return 'pending';
      const [rows]: [Row[], number] = await m.query(
        status === 'pending'
          ? `UPDATE sms_webhook_deliveries d
                SET next_attempt_at = CASE WHEN d.leased_until > $3::timestamptz THEN d.next_attempt_at
                                           ELSE $3::timestamptz END
              WHERE d.tenant_id = $1 AND d.id = $2
              RETURNING ${COLUMNS}`
          : `UPDATE sms_webhook_deliveries d
                SET status = 'pending', next_attempt_at = $3::timestamptz, leased_until = NULL,
                    expires_at = $3::timestamptz + make_interval(hours => $4::int), delivered_at = NULL
              WHERE d.tenant_id = $1 AND d.id = $2
              RETURNING ${COLUMNS}`,
        status === 'pending' ? [tenantId, id, now] : [tenantId, id, now, RETRY_WINDOW_HOURS],
      );
      await m.query('DELETE FROM sms_webhook_targets WHERE target = $1', [target]);
      return { delivery: toDelivery(rows[0]), resumed: paused === true || held === true };
    });
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
