import { formatMoney, Micros } from '../../core/money';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ReplicaReads } from '../../database/replica-reads';
import { arrayLiterals } from '../../database/array-literals';
import type { Channel, ChannelParams, WhatsappMode } from '../../core/channels';
import { Language, MessageStatus, MessageType } from '../../core/message-types';
import { SmsMessageEntity, SmsMessageEventEntity } from '../message.entity';

/** A message as accepted, before it is a row. */
export interface NewMessage {
  id: string;
  tenantId: number;
  userId: string | null;
  createdBy: string;
  phoneNumber: string;
  /** The destination's ISO 3166 alpha-2 country (null: non-geographic); absent: null. */
  country?: string | null;
  body: string;
  bodyCiphertext: string | null;
  messageType: MessageType;
  language: Language;
  templateId: string | null;
  status: Extract<MessageStatus, 'queued' | 'scheduled'>;
  segments: number;
  encoding: string;
  /** Micro-units (exact); written to the numeric column as a decimal string. */
  estimatedCost: Micros | null;
  currency: string;
  scheduledAt: Date | null;
  batchId: string | null;
  campaignId: string | null;
  idempotencyKey: string | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
  /** The message's own status callback URL. */
  statusCallbackUrl: string | null;
  /** The validity period's end; absent or null: none. */
  expiresAt?: Date | null;
  /** The sender identity for the provider; absent or null: the provider's default. */
  sender?: string | null;
  /** Test mode: handed to the sandbox provider only, at no cost; absent: false. */
  testMode?: boolean;
  /** The template's A/B variant key (issue 25); absent or null: none. */
  variant?: string | null;
  /** Tracked links in its body (not a column): each inserted as an `sms_links` row with the message. */
  links?: NewLink[];
  // --- channels (issue 25) ---
  /** The channel; absent: sms. */
  channel?: Channel;
  channelParams?: ChannelParams | null;
  whatsappMode?: WhatsappMode | null;
  fallbackChannel?: 'sms' | null;
  /** The WhatsApp message this SMS replaces (a fallback). */
  fallbackOf?: string | null;
  // --- end channels ---
}

/** A tracked link of a new message: its short code and the URL it stands for. */
export interface NewLink {
  code: string;
  url: string;
}

/**
 * The tracked links of `messages` as three parameter arrays (message id, code, URL), and the CTE
 * that inserts them from `inserted` (which must return id, tenant_id, campaign_id, template_id, variant
 * and created_at): a link is written only with its message, in the message's statement.
 */
function linkInsert(messages: NewMessage[], first: number): { cte: string; params: unknown[][] } {
  const ids: string[] = [];
  const codes: string[] = [];
  const urls: string[] = [];
  for (const m of messages)
    for (const l of m.links ?? []) {
      ids.push(m.id);
      codes.push(l.code);
      urls.push(l.url);
    }
  const cte = `links AS (
         INSERT INTO sms_links (code, tenant_id, message_id, campaign_id, template_id, variant, target_url, created_at)
         SELECT l.code, i.tenant_id, i.id, i.campaign_id, i.template_id, i.variant, l.url, i.created_at
           FROM unnest($${first}::uuid[], $${first + 1}::varchar[], $${first + 2}::text[]) AS l(message_id, code, url)
           JOIN inserted i ON i.id = l.message_id
       )`;
  return { cte, params: [ids, codes, urls] };
}

/** A bulk's shared metadata, stored once for all its messages. */
export interface NewBatch {
  id: string;
  tenantId: number;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

export interface HistoryFilter {
  createdBy?: string;
  userId?: string;
  status?: MessageStatus;
  messageType?: MessageType;
  phoneNumber?: string;
  from?: Date;
  to?: Date;
  batchId?: string;
  campaignId?: string;
  channel?: string;
  /** Keyset: rows strictly older than this (created_at, id). */
  before?: { createdAt: Date; id: string };
  limit: number;
}

/** The inserted columns: name, PostgreSQL type, and the value of a message. */
const COLUMNS: readonly (readonly [string, string, (m: NewMessage) => unknown])[] = [
  ['id', 'uuid', (m) => m.id],
  ['tenant_id', 'int4', (m) => m.tenantId],
  ['user_id', 'varchar', (m) => m.userId],
  ['created_by', 'varchar', (m) => m.createdBy],
  ['phone_number', 'varchar', (m) => m.phoneNumber],
  ['country', 'varchar', (m) => m.country ?? null],
  ['body', 'text', (m) => m.body],
  ['body_ciphertext', 'text', (m) => m.bodyCiphertext],
  ['message_type', 'varchar', (m) => m.messageType],
  ['language', 'varchar', (m) => m.language],
  ['template_id', 'varchar', (m) => m.templateId],
  ['status', 'varchar', (m) => m.status],
  ['segments', 'int2', (m) => m.segments],
  ['encoding', 'varchar', (m) => m.encoding],
  ['estimated_cost', 'numeric', (m) => (m.estimatedCost === null ? null : formatMoney(m.estimatedCost))],
  ['currency', 'bpchar', (m) => m.currency],
  ['scheduled_at', 'timestamptz', (m) => m.scheduledAt],
  ['batch_id', 'uuid', (m) => m.batchId],
  ['campaign_id', 'uuid', (m) => m.campaignId],
  ['idempotency_key', 'varchar', (m) => m.idempotencyKey],
  ['metadata', 'jsonb', (m) => JSON.stringify(m.metadata)],
  ['created_at', 'timestamptz', (m) => m.createdAt],
  ['status_callback_url', 'varchar', (m) => m.statusCallbackUrl],
  ['expires_at', 'timestamptz', (m) => m.expiresAt ?? null],
  ['sender', 'varchar', (m) => m.sender ?? null],
  ['test_mode', 'bool', (m) => m.testMode === true],
  ['variant', 'varchar', (m) => m.variant ?? null],
  // channels (issue 25)
  ['channel', 'varchar', (m) => m.channel ?? 'sms'],
  ['channel_params', 'jsonb', (m) => (m.channelParams ? JSON.stringify(m.channelParams) : null)],
  ['whatsapp_mode', 'varchar', (m) => m.whatsappMode ?? null],
  ['fallback_channel', 'varchar', (m) => m.fallbackChannel ?? null],
  ['fallback_of', 'uuid', (m) => m.fallbackOf ?? null],
];

/**
 * One array literal per column, the statement's parameters: built column by column, so a
 * 10,000-row insert holds its rows and these, not also a row of values per message; and in slices
 * (`arrayLiterals`), so a bulk's insert does not hold the event loop while it is written.
 */
function columnArrays(messages: NewMessage[]): Promise<string[]> {
  return arrayLiterals(COLUMNS.map(([, , value]) => messages.map(value)));
}

/**
 * The columns in an insert's SQL, the same for every insert: their names, their parameters
 * (`$1::type[]`, the first COLUMNS.length parameters; jsonb goes as text) and what is selected
 * from the unnested parameters.
 */
const COLUMN_SQL = {
  names: COLUMNS.map(([name]) => name).join(', '),
  casts: COLUMNS.map(([, type], i) => `$${i + 1}::${type === 'jsonb' ? 'text' : type}[]`).join(', '),
  select: COLUMNS.map(([name, type]) => (type === 'jsonb' ? `${name}::jsonb` : name)).join(', '),
};

/** Binds a statement parameter and returns its placeholder (`$7`). */
export type BindParam = (value: unknown) => string;

/** An insert of messages, built and not yet run (`MessagesRepository.prepareInsert`). */
export interface PreparedInsert {
  readonly sql: string;
  readonly params: unknown[];
}

/**
 * Every read and write of `sms_messages` that a caller makes on behalf of a tenant takes the
 * tenant id: there is no unscoped query here. The worker's by-id methods live in DeliveryStore.
 */
@Injectable()
export class MessagesRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly reads: ReplicaReads,
  ) {}

  /**
   * Inserts any number of messages, their first event and their batches' shared metadata in one
   * statement (arrays unnested server-side): a 10,000-number bulk is one round trip, and one
   * statement is atomic on its own. Rows may belong to several tenants (group commit); each row
   * and batch carries its own tenant id.
   */
  async insertMany(
    manager: EntityManager,
    messages: NewMessage[],
    source: string,
    batches: NewBatch[] = [],
    alongside?: (param: BindParam) => string,
  ): Promise<void> {
    await this.runInsert(manager, await this.prepareInsert(messages, source, batches, alongside));
  }

  /**
   * insertMany's statement and parameters, built without a connection: a caller that inserts in a
   * transaction builds them first, so the transaction does not hold its connection (and a spend
   * cap's lock) while a bulk's parameters are written out in slices. Null: nothing to insert.
   * `alongside`: another data-modifying statement (AcceptInput.alongside), run as a CTE of this
   * one, so it commits with the rows or not at all without a transaction of its own.
   */
  async prepareInsert(
    messages: NewMessage[],
    source: string,
    batches: NewBatch[] = [],
    alongside?: (param: BindParam) => string,
  ): Promise<PreparedInsert | null> {
    if (messages.length === 0) return null;
    const arrays = await columnArrays(messages);
    const { casts, names, select } = COLUMN_SQL;
    const n = COLUMNS.length;
    const links = linkInsert(messages, n + 6);
    const params: unknown[] = [
      ...arrays,
      source,
      batches.map((b) => b.id),
      batches.map((b) => b.tenantId),
      batches.map((b) => JSON.stringify(b.metadata)),
      batches.map((b) => b.createdAt),
      ...links.params,
    ];
    const also = alongside ? `, alongside AS (${alongside((value) => `$${params.push(value)}`)})` : '';
    return {
      sql: `WITH batches AS (
         INSERT INTO sms_batches (id, tenant_id, metadata, created_at)
         SELECT id, tenant_id, metadata::jsonb, created_at
           FROM unnest($${n + 2}::uuid[], $${n + 3}::int4[], $${n + 4}::text[], $${n + 5}::timestamptz[])
             AS b(id, tenant_id, metadata, created_at)
       ), inserted AS (
         INSERT INTO sms_messages (${names}, updated_at)
         SELECT ${select}, created_at FROM unnest(${casts}) AS t(${names})
         RETURNING id, status, created_at, tenant_id, campaign_id, template_id, variant
       ), ${links.cte}${also}
       INSERT INTO sms_message_events (message_id, status, source, at)
       SELECT id, status, $${n + 1}, created_at FROM inserted`,
      params,
    };
  }

  /** Runs a prepared insert (insertMany's second half) on `manager`. */
  async runInsert(manager: EntityManager, insert: PreparedInsert | null): Promise<void> {
    if (insert) await manager.query(insert.sql, insert.params);
  }

  /**
   * A campaign's page. Like insertMany, in one statement, but each row names its recipient and its
   * id is a function of campaign and recipient (`campaignMessageId`), so a row whose id exists is
   * skipped and a retried snapshot writes nothing twice (the primary key is the ledger's one
   * unique index across its partitions). Returns the ids of the rows this call inserted.
   */
  async insertCampaignChunk(
    manager: EntityManager,
    messages: (NewMessage & { recipientUserId: string })[],
  ): Promise<string[]> {
    if (messages.length === 0) return [];
    const arrays = await columnArrays(messages);
    const n = COLUMNS.length;
    const { casts, names, select } = COLUMN_SQL;
    const links = linkInsert(messages, n + 2);
    const rows: { id: string }[] = await manager.query(
      `WITH inserted AS (
         INSERT INTO sms_messages (${names}, recipient_user_id, updated_at)
         SELECT ${select}, recipient_user_id, created_at
           FROM unnest(${casts}, $${n + 1}::varchar[]) AS t(${names}, recipient_user_id)
         ON CONFLICT (id) DO NOTHING
         RETURNING id, status, created_at, tenant_id, campaign_id, template_id, variant
       ), ${links.cte}, events AS (
         INSERT INTO sms_message_events (message_id, status, source, at)
         SELECT id, status, 'campaign', created_at FROM inserted
       )
       SELECT id FROM inserted`,
      [...arrays, messages.map((m) => m.recipientUserId), ...links.params],
    );
    return rows.map((r) => r.id);
  }

  /**
   * The messages of this campaign for these recipients still waiting to be handed over (queued or
   * scheduled), with when they are due, in recipient order: a page's to enqueue.
   */
  async campaignWaiting(
    manager: EntityManager,
    tenantId: number,
    campaignId: string,
    recipientUserIds: string[],
  ): Promise<{ id: string; recipientUserId: string; dueAt: Date | null }[]> {
    if (recipientUserIds.length === 0) return [];
    const rows: { id: string; recipient_user_id: string; due: Date | null }[] = await manager.query(
      `SELECT id, recipient_user_id, scheduled_at AS due FROM sms_messages
        WHERE tenant_id = $1 AND campaign_id = $2 AND recipient_user_id = ANY($3::varchar[])
          AND status IN ('queued', 'scheduled') ORDER BY recipient_user_id`,
      [tenantId, campaignId, recipientUserIds],
    );
    return rows.map((r) => ({ id: r.id, recipientUserId: r.recipient_user_id, dueAt: r.due }));
  }

  findOne(tenantId: number, id: string): Promise<SmsMessageEntity | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.ds.getRepository(SmsMessageEntity).findOneBy({ tenantId, id });
  }

  events(tenantId: number, messageId: string): Promise<SmsMessageEventEntity[]> {
    return this.ds
      .getRepository(SmsMessageEventEntity)
      .createQueryBuilder('e')
      .innerJoin(SmsMessageEntity, 'm', 'm.id = e.message_id')
      .where('m.tenant_id = :tenantId AND e.message_id = :messageId', { tenantId, messageId })
      .orderBy('e.at', 'ASC')
      .addOrderBy('e.id', 'ASC')
      .getMany();
  }

  /**
   * A page of history: on the read replica when one serves reads (DATABASE_READ_URL), so it may
   * lag the primary by up to DATABASE_READ_MAX_LAG_MS; a message's own status (findOne) does not.
   */
  history(tenantId: number, f: HistoryFilter): Promise<SmsMessageEntity[]> {
    return this.reads.run((ds) => this.historyOn(ds, tenantId, f));
  }

  private async historyOn(ds: DataSource, tenantId: number, f: HistoryFilter): Promise<SmsMessageEntity[]> {
    const q = ds
      .getRepository(SmsMessageEntity)
      .createQueryBuilder('m')
      .where('m.tenant_id = :tenantId', { tenantId });
    if (f.createdBy !== undefined) q.andWhere('m.created_by = :createdBy', { createdBy: f.createdBy });
    if (f.userId !== undefined) q.andWhere('m.user_id = :userId', { userId: f.userId });
    if (f.status !== undefined) q.andWhere('m.status = :status', { status: f.status });
    if (f.messageType !== undefined)
      q.andWhere('m.message_type = :messageType', { messageType: f.messageType });
    if (f.phoneNumber !== undefined)
      q.andWhere('m.phone_number = :phoneNumber', { phoneNumber: f.phoneNumber });
    if (f.from !== undefined) q.andWhere('m.created_at >= :from', { from: f.from });
    if (f.to !== undefined) q.andWhere('m.created_at < :to', { to: f.to });
    if (f.batchId !== undefined) q.andWhere('m.batch_id = :batchId', { batchId: f.batchId });
    if (f.campaignId !== undefined) q.andWhere('m.campaign_id = :campaignId', { campaignId: f.campaignId });
    if (f.channel !== undefined) q.andWhere('m.channel = :channel', { channel: f.channel });
    if (f.before) {
      q.andWhere('(m.created_at, m.id) < (:beforeAt, :beforeId)', {
        beforeAt: f.before.createdAt,
        beforeId: f.before.id,
      });
    }
    const rows = await q.orderBy('m.created_at', 'DESC').addOrderBy('m.id', 'DESC').limit(f.limit).getMany();
    return this.withBatchMetadata(ds, tenantId, rows);
  }

  /** A bulk's messages show the metadata stored once on their batch. */
  private async withBatchMetadata(
    ds: DataSource,
    tenantId: number,
    rows: SmsMessageEntity[],
  ): Promise<SmsMessageEntity[]> {
    const ids = [...new Set(rows.flatMap((r) => (r.batchId ? [r.batchId] : [])))];
    if (ids.length === 0) return rows;
    const batches: { id: string; metadata: Record<string, unknown> }[] = await ds.query(
      'SELECT id, metadata FROM sms_batches WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
      [tenantId, ids],
    );
    const byId = new Map(batches.map((b) => [b.id, b.metadata]));
    for (const r of rows)
      if (r.batchId && byId.has(r.batchId)) r.metadata = byId.get(r.batchId) ?? r.metadata;
    return rows;
  }

  /**
   * Cancels a message that no provider has seen. Returns the status it had (null: no such message
   * for this tenant); only 'scheduled' and 'queued' rows change.
   */
  async cancel(
    tenantId: number,
    id: string,
    source: string,
  ): Promise<{ canceled: boolean; status: MessageStatus | null }> {
    if (!isUuid(id)) return { canceled: false, status: null };
    return this.ds.transaction(async (m) => {
      const rows: { status: MessageStatus }[] = await m.query(
        'SELECT status FROM sms_messages WHERE tenant_id = $1 AND id = $2 FOR UPDATE',
        [tenantId, id],
      );
      if (rows.length === 0) return { canceled: false, status: null };
      if (rows[0].status !== 'scheduled' && rows[0].status !== 'queued')
        return { canceled: false, status: rows[0].status };
      await m.query(
        `UPDATE sms_messages SET status = 'canceled', body_ciphertext = NULL, updated_at = now() WHERE id = $1`,
        [id],
      );
      await m.query(
        `INSERT INTO sms_message_events (message_id, status, source) VALUES ($1, 'canceled', $2)`,
        [id, source],
      );
      return { canceled: true, status: 'canceled' };
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID.test(s);
}
