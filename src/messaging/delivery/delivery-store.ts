import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../../common/batcher';
import { MessageStatus, MessageType, ProviderName } from '../../core/message-types';

/** A message the worker has claimed for one attempt (status is now 'sending'). */
export interface ClaimedMessage {
  id: string;
  tenantId: number;
  phoneNumber: string;
  body: string;
  bodyCiphertext: string | null;
  messageType: MessageType;
  attempts: number;
}

export type AttemptOutcome =
  | {
      id: string;
      outcome: 'sent';
      provider: ProviderName;
      providerMessageId: string;
      cost: number | null;
      tried: unknown;
    }
  | { id: string; outcome: 'retry' | 'failed'; errorCode: string; errorMessage: string; tried: unknown };

/**
 * The worker's writes to `sms_messages`, batched: concurrent jobs' claims share one UPDATE, and
 * their outcomes another, each with its events in the same statement. Rows move forward only:
 * a claim takes 'queued' or due 'scheduled' rows; an outcome applies only to a 'sending' row.
 */
@Injectable()
export class DeliveryStore {
  private readonly claims: Batcher<string, ClaimedMessage | null>;
  private readonly outcomes: Batcher<AttemptOutcome, boolean>;

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    this.claims = new Batcher((ids) => this.claimMany(ids));
    this.outcomes = new Batcher((os) => this.recordMany(os));
  }

  /** Moves the message to 'sending' for one attempt; null when it is not ours to send. */
  claim(id: string): Promise<ClaimedMessage | null> {
    return this.claims.submit(id);
  }

  /** Records an attempt's outcome; false when the row had left 'sending' (e.g. reconciled). */
  record(outcome: AttemptOutcome): Promise<boolean> {
    return this.outcomes.submit(outcome);
  }

  private async claimMany(ids: string[]): Promise<(ClaimedMessage | null)[]> {
    const rows: {
      id: string;
      tenant_id: number;
      phone_number: string;
      body: string;
      body_ciphertext: string | null;
      message_type: MessageType;
      attempts: number;
    }[] = await this.ds.query(
      `WITH claimed AS (
         UPDATE sms_messages SET status = 'sending', attempts = attempts + 1, updated_at = now()
          WHERE id = ANY($1::uuid[])
            AND (status = 'queued' OR (status = 'scheduled' AND scheduled_at <= now() + interval '5 seconds'))
          RETURNING id, tenant_id, phone_number, body, body_ciphertext, message_type, attempts
       ), events AS (
         INSERT INTO sms_message_events (message_id, status, source, payload)
         SELECT id, 'sending', 'worker', jsonb_build_object('attempt', attempts) FROM claimed
       )
       SELECT * FROM claimed`,
      [ids],
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
      };
    });
  }

  private async recordMany(outcomes: AttemptOutcome[]): Promise<boolean[]> {
    const status = (o: AttemptOutcome): MessageStatus =>
      o.outcome === 'sent' ? 'sent' : o.outcome === 'retry' ? 'queued' : 'failed';
    const rows: { id: string }[] = await this.ds.query(
      `WITH v AS (
         SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::numeric[],
                              $6::varchar[], $7::text[], $8::text[])
           AS v(id, status, provider, provider_message_id, cost, error_code, error_message, tried)
       ), updated AS (
         UPDATE sms_messages m SET
           status = v.status,
           provider = COALESCE(v.provider, m.provider),
           provider_message_id = COALESCE(v.provider_message_id, m.provider_message_id),
           cost = COALESCE(v.cost, m.cost),
           sent_at = CASE WHEN v.status = 'sent' THEN now() ELSE m.sent_at END,
           error_code = CASE WHEN v.status = 'sent' THEN NULL ELSE v.error_code END,
           error_message = CASE WHEN v.status = 'sent' THEN NULL ELSE v.error_message END,
           body_ciphertext = CASE WHEN v.status = 'queued' THEN m.body_ciphertext ELSE NULL END,
           updated_at = now()
         FROM v WHERE m.id = v.id AND m.status = 'sending'
         RETURNING m.id, v.status, v.error_code, v.tried
       ), events AS (
         INSERT INTO sms_message_events (message_id, status, source, payload)
         SELECT id, status, 'worker', jsonb_strip_nulls(jsonb_build_object('error_code', error_code, 'tried', tried::jsonb))
           FROM updated
       )
       SELECT id FROM updated`,
      [
        outcomes.map((o) => o.id),
        outcomes.map(status),
        outcomes.map((o) => (o.outcome === 'sent' ? o.provider : null)),
        outcomes.map((o) => (o.outcome === 'sent' ? o.providerMessageId : null)),
        outcomes.map((o) => (o.outcome === 'sent' ? o.cost : null)),
        outcomes.map((o) => (o.outcome === 'sent' ? null : o.errorCode)),
        outcomes.map((o) => (o.outcome === 'sent' ? null : o.errorMessage)),
        outcomes.map((o) => JSON.stringify(o.tried ?? null)),
      ],
    );
    const done = new Set(rows.map((r) => r.id));
    return outcomes.map((o) => done.has(o.id));
  }
}
