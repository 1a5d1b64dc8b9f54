import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { inChunks, redactInPages } from '../common/chunked';
import type { KeywordAction } from '../core/keywords';
import type { InboundSms } from '../providers';

export interface InboundRow {
  id: string;
  tenantId: number | null;
  provider: string;
  providerMessageId: string;
  from: string;
  to: string;
  body: string;
  keyword: KeywordAction | null;
  language: string | null;
  receivedAt: Date;
  channel: 'sms' | 'whatsapp';
}

export interface InboundFilter {
  from?: string;
  keyword?: KeywordAction | 'none';
  since?: Date;
  until?: Date;
  /** Keyset cursor: rows strictly older than (receivedAt, id). */
  before?: { at: Date; id: string };
  limit: number;
}

interface Row {
  id: string;
  tenant_id: number | null;
  provider: string;
  provider_message_id: string;
  from_number: string;
  to_number: string;
  body: string;
  keyword: KeywordAction | null;
  language: string | null;
  received_at: Date;
  channel: 'sms' | 'whatsapp';
}

/**
 * `sms_inbound_messages` and the look-ups that route an inbound text to tenants. Reads of the list
 * take the tenant id; the routing look-ups are system queries on purpose (an inbound text names
 * no tenant).
 */
@Injectable()
export class InboundRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Stores a text once per provider id; `created` false: a redelivered webhook (stored before). */
  async insert(
    m: InboundSms,
    tenantId: number | null,
    keyword: KeywordAction | null,
    language: string | null,
  ): Promise<{ row: InboundRow; created: boolean }> {
    const inserted: Row[] = await this.ds.query(
      `INSERT INTO sms_inbound_messages
         (tenant_id, provider, provider_message_id, from_number, to_number, body, keyword, language, received_at,
          channel)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (provider, provider_message_id) DO NOTHING RETURNING *`,
      [
        tenantId,
        m.provider,
        m.providerMessageId,
        m.from,
        m.to,
        m.body,
        keyword,
        language,
        m.receivedAt,
        m.channel ?? 'sms',
      ],
    );
    if (inserted.length) return { row: toRow(inserted[0]), created: true };
    const existing: Row[] = await this.ds.query(
      'SELECT * FROM sms_inbound_messages WHERE provider = $1 AND provider_message_id = $2',
      [m.provider, m.providerMessageId],
    );
    return { row: toRow(existing[0]), created: false };
  }

  /**
   * Tenants that send from `ourNumber`. Every tenant shares the service's numbers today
   * (TWILIO_PHONE_NUMBER, the messaging service, SNS), so: every active tenant.
   */
  /** Retention: inbound texts (a phone number and a body) received more than `days` ago, in chunks. */
  purgeOlderThan(days: number, chunk: number): Promise<number> {
    return inChunks(chunk, async () => {
      const [, n] = await this.ds.query(
        `DELETE FROM sms_inbound_messages WHERE id IN (
           SELECT id FROM sms_inbound_messages
            WHERE received_at < now() - make_interval(days => $1::int) ORDER BY id LIMIT $2)`,
        [days, chunk],
      );
      return Number(n);
    });
  }

  /**
   * Body retention (docs/privacy.md#body-retention): the bodies of this tenant's inbound texts
   * (null: texts no tenant was found for) received more than `days` ago become `redactedBody(days)`,
   * newest first in pages of `chunk` rows, one short statement a page. Sender, keyword and times stay.
   */
  async redactBodies(tenantId: number | null, days: number, chunk: number): Promise<number> {
    return redactInPages(
      (q, params) => this.ds.query(q, params),
      `WITH page AS (
             SELECT id, received_at FROM sms_inbound_messages
              WHERE (tenant_id = $1::int OR ($1::int IS NULL AND tenant_id IS NULL))
                AND received_at < now() - make_interval(days => $2::int)
                AND ($3::timestamptz IS NULL OR (received_at, id) < ($3::timestamptz, $4::bigint))
              ORDER BY received_at DESC, id DESC LIMIT $5
           ), redacted AS (
             UPDATE sms_inbound_messages i SET body = $6 FROM page p WHERE i.id = p.id AND i.body !~ $7
             RETURNING i.id
           ), last AS (SELECT received_at::text AS at, id::text AS id FROM page ORDER BY received_at, id LIMIT 1)
           SELECT (SELECT count(*) FROM redacted)::int AS n, (SELECT count(*) FROM page)::int AS page,
                  (SELECT at FROM last) AS at, (SELECT id FROM last) AS id`,
      tenantId,
      days,
      chunk,
    );
  }

  async tenantsSendingFrom(_ourNumber: string): Promise<number[]> {
    const rows: { id: number }[] = await this.ds.query('SELECT id FROM tenants WHERE active ORDER BY id');
    return rows.map((r) => r.id);
  }

  /** Tenants whose opt-out list holds this number. */
  async tenantsOptedOut(phoneNumber: string): Promise<number[]> {
    const rows: { tenant_id: number }[] = await this.ds.query(
      'SELECT tenant_id FROM sms_opt_outs WHERE phone_number = $1 ORDER BY tenant_id',
      [phoneNumber],
    );
    return rows.map((r) => r.tenant_id);
  }

  async settings(tenantId: number): Promise<Record<string, unknown>> {
    const rows: { settings: Record<string, unknown> }[] = await this.ds.query(
      'SELECT settings FROM tenants WHERE id = $1',
      [tenantId],
    );
    return rows[0]?.settings ?? {};
  }

  /** A tenant's inbound texts, newest first. */
  async list(tenantId: number, f: InboundFilter): Promise<InboundRow[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.from) add('from_number = ?', f.from);
    if (f.keyword === 'none') where.push('keyword IS NULL');
    else if (f.keyword) add('keyword = ?', f.keyword);
    if (f.since) add('received_at >= ?', f.since);
    if (f.until) add('received_at < ?', f.until);
    if (f.before) {
      params.push(f.before.at, f.before.id);
      where.push(`(received_at, id) < ($${params.length - 1}, $${params.length}::bigint)`);
    }
    params.push(f.limit);
    const rows: Row[] = await this.ds.query(
      `SELECT * FROM sms_inbound_messages WHERE ${where.join(' AND ')}
        ORDER BY received_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toRow);
  }
}

function toRow(r: Row): InboundRow {
  return {
    id: String(r.id),
    tenantId: r.tenant_id,
    provider: r.provider,
    providerMessageId: r.provider_message_id,
    from: r.from_number,
    to: r.to_number,
    body: r.body,
    keyword: r.keyword,
    language: r.language,
    receivedAt: r.received_at,
    channel: r.channel ?? 'sms',
  };
}
