import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ERASED_BODY, ERASED_NUMBER } from '../../core/personal-data';
import { ReplicaReads } from '../../database/replica-reads';

export { ERASED_BODY, ERASED_NUMBER };

export interface LedgerErasure {
  /** Messages whose number and body were redacted. */
  messages: number;
  /** Events whose payload named the number. */
  events: number;
  /** Waiting (`queued`/`scheduled`) messages canceled, so no erased row is handed to a provider. */
  canceled: number;
  /** Stored idempotent answers (kept 24 h) that named the number (a bulk's `rejected`). */
  idempotencyResults: number;
  /** Tracked links of its messages whose target URL was dropped (it may carry personal data). */
  links: number;
}

export interface LedgerExportMessage {
  id: string;
  message_type: string;
  status: string;
  body: string;
  segments: number;
  cost: string | null;
  currency: string;
  provider: string | null;
  created_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
  events: { status: string; source: string; payload: unknown; at: Date }[];
}

/**
 * The ledger's part of a data-subject request (`src/privacy`): one number's messages and events,
 * found by tenant and number (index `sms_messages_phone_created`).
 *
 * The erasure's UPDATE changes no column the ledger's triggers count (the rollup compares tenant,
 * times, provider, type, status, language, campaign, creator, currency, segments and costs; the
 * conversion rollup nets out; the callbacks outbox fires only on a status change), so counts and
 * costs stay as they were. `updated_at` is left alone: the sweeper and resolver read it.
 */
@Injectable()
export class PrivacyLedger {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly reads: ReplicaReads,
  ) {}

  /** Redacts `phone` (E.164) and its bodies in `tenantIds`' messages, their events and stored idempotent answers. */
  async erase(
    tenantIds: number[],
    phone: string,
    m: EntityManager = this.ds.manager,
  ): Promise<LedgerErasure> {
    const canceled: { id: string }[] = await m.query(
      `WITH waiting AS (
         UPDATE sms_messages SET status = 'canceled', body_ciphertext = NULL, updated_at = now()
          WHERE tenant_id = ANY($1::int[]) AND phone_number = $2 AND status IN ('queued', 'scheduled')
          RETURNING id
       ), ev AS (
         INSERT INTO sms_message_events (message_id, status, source) SELECT id, 'canceled', 'erasure' FROM waiting
       )
       SELECT id FROM waiting`,
      [tenantIds, phone],
    );
    const [, events] = (await m.query(
      `UPDATE sms_message_events e SET payload = replace(e.payload::text, $2::text, '${ERASED_NUMBER}')::jsonb
         FROM sms_messages s
        WHERE s.tenant_id = ANY($1::int[]) AND s.phone_number = $2 AND e.message_id = s.id
          AND strpos(e.payload::text, $2::text) > 0`,
      [tenantIds, phone],
    )) as [unknown, number];
    // Before the number goes: its messages' tracked links lose their target (the URL may name the
    // person); the code then answers 410 and counts nothing. Clicks already counted stay.
    const [, links] = (await m.query(
      `UPDATE sms_links l SET target_url = NULL, redacted_at = now()
         FROM sms_messages s
        WHERE s.tenant_id = ANY($1::int[]) AND s.phone_number = $2 AND l.message_id = s.id
          AND l.target_url IS NOT NULL`,
      [tenantIds, phone],
    )) as [unknown, number];
    const [, messages] = (await m.query(
      `UPDATE sms_messages SET phone_number = '${ERASED_NUMBER}', body = '${ERASED_BODY}', body_ciphertext = NULL,
              error_message = replace(error_message, $2::text, '${ERASED_NUMBER}')
        WHERE tenant_id = ANY($1::int[]) AND phone_number = $2`,
      [tenantIds, phone],
    )) as [unknown, number];
    const [, idempotencyResults] = (await m.query(
      `UPDATE sms_idempotency_keys SET response = replace(response::text, $2::text, '${ERASED_NUMBER}')::jsonb
        WHERE tenant_id = ANY($1::int[]) AND response IS NOT NULL AND strpos(response::text, $2::text) > 0`,
      [tenantIds, phone],
    )) as [unknown, number];
    return { messages, events, canceled: canceled.length, idempotencyResults, links };
  }

  /**
   * One tenant's messages to `phone` with their events, oldest first (at most `limit`). Bodies as
   * stored: a code message's stored body has its code redacted, never the sealed copy. On the read
   * replica when one serves reads.
   */
  async export(tenantId: number, phone: string, limit = 100_000): Promise<LedgerExportMessage[]> {
    const rows: (Omit<LedgerExportMessage, 'events'> & { events: LedgerExportMessage['events'] | null })[] =
      await this.reads.run((ds) =>
        ds.query(
          `SELECT s.id, s.message_type, s.status, s.body, s.segments, s.cost::text AS cost, s.currency, s.provider,
                s.created_at, s.sent_at, s.delivered_at,
                (SELECT json_agg(json_build_object('status', e.status, 'source', e.source, 'payload', e.payload, 'at', e.at)
                                 ORDER BY e.at, e.id)
                   FROM sms_message_events e WHERE e.message_id = s.id) AS events
           FROM sms_messages s
          WHERE s.tenant_id = $1 AND s.phone_number = $2
          ORDER BY s.created_at, s.id
          LIMIT $3`,
          [tenantId, phone, limit],
        ),
      );
    return rows.map((r) => ({ ...r, events: r.events ?? [] }));
  }
}
