import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../../common/batcher';
import { Clock } from '../../common/clock';
import { MESSAGE_STATUSES, MessageStatus, MessageType, ProviderName } from '../../core/message-types';
import { formatMoney, Micros } from '../../core/money';
import { canTransition } from '../../core/status-machine';

/** A message the worker has claimed for one attempt (status is now 'sending'). */
export interface ClaimedMessage {
  id: string;
  tenantId: number;
  phoneNumber: string;
  body: string;
  bodyCiphertext: string | null;
  messageType: MessageType;
  attempts: number;
  createdAt: Date;
}

export type AttemptOutcome =
  | {
      id: string;
      outcome: 'sent';
      provider: ProviderName;
      providerMessageId: string;
      /** What the provider reported at send time, exact; null when it did not say. */
      cost: Micros | null;
      currency: string | null;
      tried: unknown;
    }
  | {
      id: string;
      /**
       * retry: back to 'queued' (attempt spent); deferred: back to 'queued' with the attempt given
       * back (every provider was down, nothing was tried); unknown: a provider may have it (timeout);
       * failed: final.
       */
      outcome: 'retry' | 'deferred' | 'unknown' | 'failed';
      errorCode: string;
      errorMessage: string;
      tried: unknown;
    };

/** Outcome writes are retried until PostgreSQL answers: first after this, doubling up to the cap. */
const WRITE_RETRY_FIRST_MS = 50;
const WRITE_RETRY_MAX_MS = 2_000;

/** Statuses a receipt parked before 'sent' was recorded may move the message to (the machine's rules). */
const PARKED_MOVES: MessageStatus[] = MESSAGE_STATUSES.filter((s) => canTransition('sent', s));

/** The same key for a provider message id on both sides: the receipt that parks, the worker that records. */
export const RECEIPT_LOCK_SQL = `hashtextextended($1::text || ':' || $2::text, 0)`;

/**
 * The worker's writes to `sms_messages`, batched: concurrent jobs' claims share one UPDATE, and
 * their outcomes another, each with its events in the same statement. Rows move forward only:
 * a claim takes 'queued' or due 'scheduled' rows; an outcome applies only to a 'sending' row.
 * Times come from the injected Clock (the same source as created_at), never SQL now().
 */
@Injectable()
export class DeliveryStore {
  private readonly logger = new Logger(DeliveryStore.name);
  private readonly claims: Batcher<string, ClaimedMessage | null>;
  private readonly outcomes: Batcher<AttemptOutcome, boolean>;
  /** Set on shutdown: outcome writes stop retrying at this time (ms since epoch). */
  private giveUpAt: number | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly clock: Clock,
  ) {
    this.claims = new Batcher((ids) => this.claimMany(ids));
    this.outcomes = new Batcher((os) => this.recordMany(os));
  }

  /**
   * Moves the message to 'sending' for one attempt; null when it is not ours to send. A message
   * of a deactivated tenant is never claimed: it ends 'canceled' (tenant_deactivated) instead.
   */
  claim(id: string): Promise<ClaimedMessage | null> {
    return this.claims.submit(id);
  }

  /**
   * Records an attempt's outcome; false when the row had left 'sending' (e.g. resolved). A
   * provider's answer is a fact: the write is retried with backoff until PostgreSQL takes it (a
   * retry goes alone, so one bad row cannot hold up the others), or until `stopRetryingAt`.
   */
  async record(outcome: AttemptOutcome): Promise<boolean> {
    try {
      return await this.outcomes.submit(outcome);
    } catch (first) {
      let delay = WRITE_RETRY_FIRST_MS;
      let last = first;
      for (;;) {
        this.logger.warn({ messageId: outcome.id, err: String(last) }, 'outcome not written yet; retrying');
        if (this.giveUpAt !== null && Date.now() + delay > this.giveUpAt) throw last;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, WRITE_RETRY_MAX_MS);
        try {
          return (await this.recordMany([outcome]))[0];
        } catch (e) {
          last = e;
        }
      }
    }
  }

  /** On shutdown: outcome writes still failing at `at` are given up (the row stays 'sending'). */
  stopRetryingAt(at: number): void {
    this.giveUpAt = at;
  }

  private async claimMany(ids: string[]): Promise<(ClaimedMessage | null)[]> {
    const now = this.clock.now();
    const rows: {
      id: string;
      tenant_id: number;
      phone_number: string;
      body: string;
      body_ciphertext: string | null;
      message_type: MessageType;
      attempts: number;
      created_at: Date;
    }[] = await this.ds.query(
      `WITH due AS (
         SELECT m.id, t.active FROM sms_messages m JOIN tenants t ON t.id = m.tenant_id
          WHERE m.id = ANY($1::uuid[])
            AND (m.status = 'queued'
                 OR (m.status = 'scheduled' AND m.scheduled_at <= $2::timestamptz + interval '5 seconds'))
       ), claimed AS (
         UPDATE sms_messages m SET status = 'sending', attempts = attempts + 1, updated_at = $2
           FROM due WHERE m.id = due.id AND due.active
            AND (m.status = 'queued'
                 OR (m.status = 'scheduled' AND m.scheduled_at <= $2::timestamptz + interval '5 seconds'))
          RETURNING m.id, m.tenant_id, m.phone_number, m.body, m.body_ciphertext, m.message_type,
                    m.attempts, m.created_at
       ), canceled AS (
         UPDATE sms_messages m SET status = 'canceled', error_code = 'tenant_deactivated',
             error_message = 'the tenant was deactivated before the message was handed to a provider',
             body_ciphertext = NULL, updated_at = $2
           FROM due WHERE m.id = due.id AND NOT due.active AND m.status IN ('queued', 'scheduled')
          RETURNING m.id
       ), events AS (
         INSERT INTO sms_message_events (message_id, status, source, payload, at)
         SELECT id, 'sending', 'worker', jsonb_build_object('attempt', attempts), $2 FROM claimed
         UNION ALL
         SELECT id, 'canceled', 'worker', '{"error_code":"tenant_deactivated"}'::jsonb, $2 FROM canceled
       )
       SELECT * FROM claimed`,
      [ids, now],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => {
      const r = byId.get(id);
      if (!r) return null;
      byId.delete(id); // a duplicate id in one batch is claimed once
      return {
        id: r.id,
        tenantId: r.tenant_id,
        phoneNumber: r.phone_number,
        body: r.body,
        bodyCiphertext: r.body_ciphertext,
        messageType: r.message_type,
        attempts: r.attempts,
        createdAt: new Date(r.created_at),
      };
    });
  }

  /**
   * One transaction: first the receipt locks of the sent messages (the same keys a receipt takes
   * before it parks), then one statement that records the outcomes, applies receipts parked for
   * them, writes the events and deletes the parked rows. Taking the locks in a statement of their
   * own makes the recording statement's snapshot start after any receipt that parked first has
   * committed, and a receipt that comes later waits and then finds the 'sent' row: none is lost.
   * A batch without a 'sent' outcome has nothing a receipt can race: one plain statement. (Sending
   * the lock and the statement as one multi-statement string would save three round trips, but
   * only with every value inlined as an escaped literal; bound parameters were kept.)
   */
  private async recordMany(outcomes: AttemptOutcome[]): Promise<boolean[]> {
    const status = (o: AttemptOutcome): MessageStatus =>
      o.outcome === 'sent'
        ? 'sent'
        : o.outcome === 'retry' || o.outcome === 'deferred'
          ? 'queued'
          : o.outcome === 'unknown'
            ? 'unknown'
            : 'failed';
    const sent = outcomes.filter((o) => o.outcome === 'sent');
    const params = [
      outcomes.map((o) => o.id),
      outcomes.map(status),
      outcomes.map((o) => (o.outcome === 'sent' ? o.provider : null)),
      outcomes.map((o) => (o.outcome === 'sent' ? o.providerMessageId.slice(0, 100) : null)),
      outcomes.map((o) => (o.outcome === 'sent' && o.cost !== null ? formatMoney(o.cost) : null)),
      outcomes.map((o) => (o.outcome === 'sent' ? null : o.errorCode.slice(0, 100))),
      outcomes.map((o) => (o.outcome === 'sent' ? null : o.errorMessage)),
      outcomes.map((o) => JSON.stringify(o.tried ?? null)),
      outcomes.map((o) => (o.outcome === 'deferred' ? 1 : 0)),
      outcomes.map((o) => (o.outcome === 'sent' && o.currency ? o.currency.toUpperCase().slice(0, 3) : null)),
      this.clock.now(),
      PARKED_MOVES,
    ];
    const sql = `WITH v AS (
         SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::numeric[],
                              $6::varchar[], $7::text[], $8::text[], $9::int[], $10::varchar[])
           AS v(id, status, provider, provider_message_id, cost, error_code, error_message, tried,
                give_back, currency)
       ), parked AS (
         SELECT p.provider, p.provider_message_id, p.status, p.payload, p.received_at
           FROM sms_parked_receipts p JOIN v ON v.status = 'sent'
            AND p.provider = v.provider AND p.provider_message_id = v.provider_message_id
       ), last_parked AS (
         -- The receipt that moves the message: the latest one the machine allows from 'sent'.
         SELECT DISTINCT ON (provider, provider_message_id) *
           FROM parked WHERE status = ANY($12::varchar[])
          ORDER BY provider, provider_message_id, received_at DESC
       ), updated AS (
         UPDATE sms_messages m SET
           status = COALESCE(lp.status, v.status),
           provider = COALESCE(v.provider, m.provider),
           provider_message_id = COALESCE(v.provider_message_id, m.provider_message_id),
           cost = COALESCE(abs((lp.payload->>'price')::numeric), v.cost, m.cost),
           currency = COALESCE(upper(left(lp.payload->>'priceUnit', 3)), v.currency, m.currency),
           attempts = m.attempts - v.give_back,
           sent_at = CASE WHEN v.status = 'sent' THEN $11::timestamptz ELSE m.sent_at END,
           delivered_at = CASE WHEN lp.status = 'delivered' THEN lp.received_at ELSE m.delivered_at END,
           error_code = CASE WHEN v.status = 'sent'
             THEN CASE WHEN lp.payload->>'errorCode' IS NOT NULL
                       THEN left(lp.provider || ':' || (lp.payload->>'errorCode'), 100) END
             ELSE v.error_code END,
           error_message = CASE WHEN v.status = 'sent' THEN NULL ELSE v.error_message END,
           body_ciphertext = CASE WHEN v.status IN ('queued', 'unknown') THEN m.body_ciphertext ELSE NULL END,
           updated_at = $11::timestamptz
         FROM v LEFT JOIN last_parked lp
           ON lp.provider = v.provider AND lp.provider_message_id = v.provider_message_id
         WHERE m.id = v.id AND m.status = 'sending'
         RETURNING m.id, v.status, v.error_code, v.tried, v.provider, v.provider_message_id
       ), events AS (
         INSERT INTO sms_message_events (message_id, status, source, payload, at)
         SELECT id, status, 'worker',
                jsonb_strip_nulls(jsonb_build_object('error_code', error_code, 'tried', tried::jsonb)), $11
           FROM updated
         UNION ALL
         SELECT u.id, COALESCE(p.status, 'sent'), COALESCE(p.payload->>'source', 'receipt'),
                jsonb_strip_nulls(jsonb_build_object(
                  'provider_status', p.payload->>'providerStatus', 'parked', true,
                  'applied', p.status = ANY($12::varchar[]), 'error_code', p.payload->>'errorCode')),
                p.received_at
           FROM updated u JOIN parked p
             ON p.provider = u.provider AND p.provider_message_id = u.provider_message_id
       ), unparked AS (
         DELETE FROM sms_parked_receipts p USING updated u
          WHERE p.provider = u.provider AND p.provider_message_id = u.provider_message_id
       )
       SELECT id FROM updated`;
    const rows: { id: string }[] =
      sent.length === 0
        ? await this.ds.query(sql, params) // nothing a receipt can race: one statement, no lock
        : await this.ds.transaction(async (m) => {
            await m.query(
              `SELECT pg_advisory_xact_lock(k) FROM (
                 SELECT DISTINCT hashtextextended(p || ':' || i, 0) AS k
                   FROM unnest($1::text[], $2::text[]) AS x(p, i) ORDER BY 1) locks`,
              [
                sent.map((o) => (o.outcome === 'sent' ? o.provider : '')),
                sent.map((o) => (o.outcome === 'sent' ? o.providerMessageId.slice(0, 100) : '')),
              ],
            );
            return m.query(sql, params);
          });
    const done = new Set(rows.map((r) => r.id));
    return outcomes.map((o) => done.has(o.id));
  }
}
