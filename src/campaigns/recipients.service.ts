import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit';
import { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { NotFoundError, ValidationFailedError } from '../common/errors';
import { Language } from '../core/message-types';
import {
  Consent,
  ConsentChannel,
  ConsentInput,
  ConsentService,
  ConsentWrite,
  parseConsent,
  UNKNOWN_CONSENT,
} from '../messaging';
import { PhoneService } from '../phone';
import { TenantsService } from '../tenancy';
import { checkRecipients, MAX_RECIPIENTS_PER_PUT, RecipientReject, RecipientRow } from './recipient-rules';

export interface Recipient extends RecipientRow {
  createdAt: Date;
  updatedAt: Date;
  /** The number's consent per channel (kept by number: entries sharing a number share it). */
  consent?: Record<ConsentChannel, Consent>;
}

/** Campaign and listing filters: all ANDed, each list ORed. */
export interface RecipientFilter {
  roles?: string[];
  languages?: string[];
  userIds?: string[];
  tags?: string[];
}

interface RecipientSqlRow {
  user_id: string;
  phone_number: string;
  roles: string[];
  language: Language | null;
  timezone: string | null;
  tags: string[];
  attributes: Record<string, string | number>;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

export function fromSql(r: RecipientSqlRow): Recipient {
  return {
    userId: r.user_id,
    phoneNumber: r.phone_number,
    roles: r.roles,
    language: r.language,
    timezone: r.timezone,
    tags: r.tags,
    attributes: r.attributes,
    active: r.active,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * The WHERE clause of a filter on `sms_recipients` aliased `r`, with its parameters appended to
 * `params` (the tenant id must already be $1). A recipient without a language has the tenant's.
 */
export function filterSql(f: RecipientFilter, params: unknown[], defaultLanguage: Language): string {
  const where = ['r.tenant_id = $1'];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.roles?.length) add((n) => `r.roles && ${n}::text[]`, f.roles);
  if (f.tags?.length) add((n) => `r.tags && ${n}::text[]`, f.tags);
  if (f.languages?.length) {
    params.push(defaultLanguage);
    const d = `$${params.length}::varchar`;
    add((n) => `COALESCE(r.language, ${d}) = ANY(${n}::varchar[])`, f.languages);
  }
  if (f.userIds?.length) add((n) => `r.user_id = ANY(${n}::varchar[])`, f.userIds);
  return where.join(' AND ');
}

/**
 * The recipient directory of each tenant (`sms_recipients`): the platform pushes its users with
 * an idempotent upsert; campaigns select from it. Every method takes the tenant id.
 */
@Injectable()
export class RecipientsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly phone: PhoneService,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly consent: ConsentService,
  ) {}

  /**
   * Stores every valid row in one statement (arrays unnested server-side), rejects the others by
   * user_id and reason. A row equal to the stored one is left untouched (its updated_at too).
   * Audited as `recipients.upsert` (user ids and counts; no numbers).
   */
  async upsert(
    tenantId: number,
    raws: unknown[],
    actor: Principal,
  ): Promise<{ upserted: number; rejected: RecipientReject[] }> {
    if (raws.length > MAX_RECIPIENTS_PER_PUT)
      throw ValidationFailedError.field(
        'recipients',
        `at most ${MAX_RECIPIENTS_PER_PUT} recipients per request`,
      );
    await this.tenants.ensure(tenantId);
    const now = this.clock.now();
    // Consent is checked for every row before anything is stored: a bad one is a 400 naming it.
    const consents = new Map<number, Partial<Record<ConsentChannel, ConsentInput>>>();
    raws.forEach((raw, i) => {
      const given =
        raw !== null && typeof raw === 'object' ? (raw as { consent?: unknown }).consent : undefined;
      if (given === undefined) return;
      const parsed = parseConsent(given, `recipients[${i}].consent`, now);
      if (!parsed.ok) throw ValidationFailedError.field(parsed.field, parsed.error);
      consents.set(i, parsed.value);
    });
    const { rows, rejected } = checkRecipients(raws, (p) => {
      const v = this.phone.forSend(p);
      return v.valid ? v.e164 : null;
    });
    // Consent goes with its row: a row rejected (invalid_roles…) changes no consent either.
    const stored = new Set(rows.map((r) => r.userId));
    const writes = this.consentWrites(raws, consents, (raw) =>
      stored.has((raw as { user_id?: unknown }).user_id as string),
    );
    if (rows.length > 0) {
      await this.ds.transaction(async (m) => {
        await m.query(
          `INSERT INTO sms_recipients (tenant_id, user_id, phone_number, roles, language, timezone, tags,
                                       attributes, active, created_at, updated_at)
           SELECT $1, u.user_id, u.phone_number,
                  string_to_array(u.roles, ','), u.language, u.timezone,
                  string_to_array(u.tags, ','), u.attributes::jsonb, u.active, $2, $2
             FROM unnest($3::varchar[], $4::varchar[], $5::text[], $6::varchar[], $7::varchar[], $8::text[],
                         $9::text[], $10::boolean[])
               AS u(user_id, phone_number, roles, language, timezone, tags, attributes, active)
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET
             phone_number = EXCLUDED.phone_number, roles = EXCLUDED.roles, language = EXCLUDED.language,
             timezone = EXCLUDED.timezone, tags = EXCLUDED.tags, attributes = EXCLUDED.attributes,
             active = EXCLUDED.active, updated_at = EXCLUDED.updated_at
           WHERE (sms_recipients.phone_number, sms_recipients.roles, sms_recipients.language,
                  sms_recipients.timezone, sms_recipients.tags, sms_recipients.attributes, sms_recipients.active)
                 IS DISTINCT FROM
                 (EXCLUDED.phone_number, EXCLUDED.roles, EXCLUDED.language, EXCLUDED.timezone,
                  EXCLUDED.tags, EXCLUDED.attributes, EXCLUDED.active)`,
          [
            tenantId,
            now,
            rows.map((r) => r.userId),
            rows.map((r) => r.phoneNumber),
            rows.map((r) => r.roles.join(',')), // labels never contain a comma
            rows.map((r) => r.language),
            rows.map((r) => r.timezone),
            rows.map((r) => r.tags.join(',')),
            rows.map((r) => JSON.stringify(r.attributes)),
            rows.map((r) => r.active),
          ],
        );
        const changed = await this.consent.set(tenantId, writes, { actor: actor.userId }, m);
        await this.audit.record(
          actor,
          'recipients.upsert',
          { type: 'recipients', id: `${rows.length} rows`, tenantId },
          null,
          {
            upserted: rows.length,
            rejected: rejected.length,
            user_ids: rows.slice(0, 100).map((r) => r.userId),
            ...(changed.length > 0 ? { consent_changes: changed.length } : {}),
          },
          m,
        );
      });
    }
    return { upserted: rows.length, rejected };
  }

  async list(tenantId: number, f: RecipientFilter & { after?: string; limit: number }): Promise<Recipient[]> {
    const params: unknown[] = [tenantId];
    let where = filterSql(f, params, await this.defaultLanguage(tenantId));
    if (f.after !== undefined) {
      params.push(f.after);
      where += ` AND r.user_id > $${params.length}`;
    }
    params.push(f.limit);
    const rows: RecipientSqlRow[] = await this.ds.query(
      `SELECT r.* FROM sms_recipients r WHERE ${where} ORDER BY r.user_id LIMIT $${params.length}`,
      params,
    );
    return this.withConsent(tenantId, rows.map(fromSql));
  }

  async get(tenantId: number, userId: string): Promise<Recipient> {
    const rows: RecipientSqlRow[] = await this.ds.query(
      'SELECT * FROM sms_recipients WHERE tenant_id = $1 AND user_id = $2',
      [tenantId, userId],
    );
    if (rows.length === 0) throw notFound(userId);
    return (await this.withConsent(tenantId, [fromSql(rows[0])]))[0];
  }

  /**
   * Sets the consent of a recipient's number (`{sms: {status, source, at}}`): a 400 naming the
   * field when it is not valid, a 404 for an unknown recipient. Audited as `recipient.consent`
   * when it changed the status.
   */
  async setConsent(tenantId: number, userId: string, raw: unknown, actor: Principal): Promise<Recipient> {
    const parsed = parseConsent(raw, '', this.clock.now());
    if (!parsed.ok) throw ValidationFailedError.field(parsed.field, parsed.error);
    const recipient = await this.get(tenantId, userId);
    const writes = this.consentWrites(
      [{ phone_number: recipient.phoneNumber }],
      new Map([[0, parsed.value]]),
    );
    await this.ds.transaction(async (m) => {
      const changed = await this.consent.set(tenantId, writes, { actor: actor.userId }, m);
      if (changed.length === 0) return;
      await this.audit.record(
        actor,
        'recipient.consent',
        { type: 'recipient', id: userId, tenantId },
        recipient.consent ? consentSummary(recipient.consent) : null,
        Object.fromEntries(
          Object.entries(parsed.value).map(([c, v]) => [c, { status: v.status, source: v.source }]),
        ),
        m,
      );
    });
    return this.get(tenantId, userId);
  }

  /** The consent writes of these rows (by index), each for its row's number in E.164. */
  private consentWrites(
    raws: unknown[],
    consents: Map<number, Partial<Record<ConsentChannel, ConsentInput>>>,
    keep: (raw: unknown) => boolean = () => true,
  ): ConsentWrite[] {
    const writes: ConsentWrite[] = [];
    for (const [i, byChannel] of consents) {
      if (!keep(raws[i])) continue;
      const phone = (raws[i] as { phone_number?: unknown }).phone_number;
      const v = typeof phone === 'string' ? this.phone.forSend(phone) : null;
      if (!v?.valid) continue; // the row itself is rejected invalid_phone
      for (const [channel, c] of Object.entries(byChannel))
        writes.push({ phoneNumber: v.e164, channel: channel as ConsentChannel, ...c });
    }
    return writes;
  }

  /** Each recipient with its number's consent (unknown where none was recorded). */
  private async withConsent(tenantId: number, recipients: Recipient[]): Promise<Recipient[]> {
    const sms = await this.consent.of(
      tenantId,
      recipients.map((r) => r.phoneNumber),
      'sms',
    );
    return recipients.map((r) => ({ ...r, consent: { sms: sms.get(r.phoneNumber) ?? UNKNOWN_CONSENT } }));
  }

  /** Removes the recipient (messages already snapshotted keep their copy); audited. */
  async delete(tenantId: number, userId: string, actor: Principal): Promise<void> {
    await this.ds.transaction(async (m) => {
      // TypeORM answers a DELETE … RETURNING with [rows, affected].
      const [rows]: [RecipientSqlRow[], number] = await m.query(
        'DELETE FROM sms_recipients WHERE tenant_id = $1 AND user_id = $2 RETURNING *',
        [tenantId, userId],
      );
      if (rows.length === 0) throw notFound(userId);
      const before = fromSql(rows[0]);
      await this.audit.record(
        actor,
        'recipient.delete',
        { type: 'recipient', id: userId, tenantId },
        { user_id: before.userId, roles: before.roles, tags: before.tags, active: before.active },
        null,
        m,
      );
    });
  }

  async defaultLanguage(tenantId: number): Promise<Language> {
    return (await this.tenants.ensure(tenantId)).settings.default_language ?? 'en';
  }
}

function consentSummary(
  c: Record<string, Consent>,
): Record<string, { status: string; source: string | null }> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, { status: v.status, source: v.source }]));
}

function notFound(userId: string): NotFoundError {
  const message = `recipient not found: "${userId}"`;
  return new NotFoundError(message, [{ errors: [message], user_id: userId }]);
}
