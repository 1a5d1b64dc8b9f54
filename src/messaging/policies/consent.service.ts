import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ReplicaReads } from '../../database/replica-reads';
import { TenantsService } from '../../tenancy';
import {
  Consent,
  ConsentChange,
  ConsentChannel,
  ConsentStatus,
  consentRequired,
  NO_CONSENT,
  SMS_KEYWORD_SOURCE,
  UNKNOWN_CONSENT,
} from './consent-rules';

/** One change to write: a number's consent on a channel, with where and when it was given. */
export interface ConsentWrite {
  phoneNumber: string;
  channel: ConsentChannel;
  status: ConsentStatus;
  source: string;
  at: Date;
}

/** One row of a number's consent history. */
export interface ConsentHistoryRow {
  channel: ConsentChannel;
  status: ConsentStatus;
  source: string;
  at: Date;
  recorded_at: Date;
  actor: string | null;
  keyword: string | null;
}

/** Who made a change, kept on its history row. */
export interface ConsentActor {
  /** An admin's user id, or the number itself for a keyword. */
  actor: string | null;
  keyword?: string | null;
  inboundMessageId?: string | null;
}

/**
 * Consent for promotional texts, per tenant, phone number (E.164) and channel. The current state
 * is `sms_consents`; every change is also a row of `sms_consent_events` (append-only), written by
 * the same statement. A write that does not change the status records nothing. Every method takes
 * the tenant id.
 */
@Injectable()
export class ConsentService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly tenants: TenantsService,
    private readonly reads: ReplicaReads,
  ) {}

  /**
   * Writes the changes whose status differs from the stored one (a number never recorded is
   * `unknown`); returns the numbers that changed.
   */
  async set(
    tenantId: number,
    writes: ConsentWrite[],
    by: ConsentActor,
    manager: EntityManager = this.ds.manager,
  ): Promise<string[]> {
    if (writes.length === 0) return [];
    const rows: { phone_number: string }[] = await manager.query(
      `WITH w AS (
         -- The last write of a number and channel wins.
         SELECT DISTINCT ON (phone_number, channel) phone_number, channel, status, source, at
           FROM unnest($2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::timestamptz[])
             WITH ORDINALITY AS w(phone_number, channel, status, source, at, n)
          ORDER BY phone_number, channel, n DESC
       ), changed AS (
         INSERT INTO sms_consents AS c (tenant_id, phone_number, channel, status, source, at, updated_at)
         SELECT $1, w.phone_number, w.channel, w.status, w.source, w.at, now() FROM w
          WHERE w.status <> 'unknown'
             OR EXISTS (SELECT 1 FROM sms_consents o
                         WHERE o.tenant_id = $1 AND o.phone_number = w.phone_number
                           AND o.channel = w.channel AND o.status <> 'unknown')
         ON CONFLICT (tenant_id, phone_number, channel) DO UPDATE
           SET status = EXCLUDED.status, source = EXCLUDED.source, at = EXCLUDED.at, updated_at = now()
           WHERE c.status <> EXCLUDED.status
         RETURNING c.phone_number, c.channel, c.status, c.source, c.at
       ), event AS (
         INSERT INTO sms_consent_events
           (tenant_id, phone_number, channel, status, source, at, actor, keyword, inbound_message_id)
         SELECT $1, phone_number, channel, status, source, at, $7, $8, $9::bigint FROM changed
       )
       SELECT phone_number FROM changed ORDER BY phone_number`,
      [
        tenantId,
        writes.map((w) => w.phoneNumber),
        writes.map((w) => w.channel),
        writes.map((w) => w.status),
        writes.map((w) => w.source),
        writes.map((w) => w.at),
        by.actor,
        by.keyword ?? null,
        by.inboundMessageId ?? null,
      ],
    );
    return rows.map((r) => r.phone_number);
  }

  /**
   * A STOP or START text: sets the number's SMS consent to `status` with source `sms_keyword`
   * for each of `tenantIds` whose stored status is one of `from` (a number never recorded is
   * `unknown`) and, with `onlyFromSource`, whose stored source is that one; one history row each.
   * Returns the tenants it changed.
   */
  async byKeyword(
    tenantIds: number[],
    phoneNumber: string,
    status: 'granted' | 'revoked',
    from: readonly ConsentStatus[],
    at: Date,
    by: ConsentActor,
    onlyFromSource: string | null = null,
  ): Promise<number[]> {
    if (tenantIds.length === 0) return [];
    const rows: { tenant_id: number }[] = await this.ds.query(
      `WITH t AS (
         SELECT t.tenant_id FROM unnest($1::int[]) AS t(tenant_id)
           LEFT JOIN sms_consents o ON o.tenant_id = t.tenant_id AND o.phone_number = $2 AND o.channel = 'sms'
          WHERE COALESCE(o.status, 'unknown') = ANY($5::varchar[])
            AND ($10::varchar IS NULL OR o.source = $10)
       ), changed AS (
         INSERT INTO sms_consents AS c (tenant_id, phone_number, channel, status, source, at, updated_at)
         SELECT t.tenant_id, $2, 'sms', $3, $4, $6, now() FROM t
         ON CONFLICT (tenant_id, phone_number, channel) DO UPDATE
           SET status = EXCLUDED.status, source = EXCLUDED.source, at = EXCLUDED.at, updated_at = now()
           WHERE c.status <> EXCLUDED.status
         RETURNING c.tenant_id, c.phone_number, c.channel, c.status, c.source, c.at
       ), event AS (
         INSERT INTO sms_consent_events
           (tenant_id, phone_number, channel, status, source, at, actor, keyword, inbound_message_id)
         SELECT tenant_id, phone_number, channel, status, source, at, $7, $8, $9::bigint FROM changed
       )
       SELECT tenant_id FROM changed ORDER BY tenant_id`,
      [
        tenantIds,
        phoneNumber,
        status,
        SMS_KEYWORD_SOURCE,
        [...from],
        at,
        by.actor,
        by.keyword ?? null,
        by.inboundMessageId ?? null,
        onlyFromSource,
      ],
    );
    return rows.map((r) => r.tenant_id);
  }

  /** The consent of each number on `channel` (absent: unknown). */
  async of(tenantId: number, phoneNumbers: string[], channel: ConsentChannel): Promise<Map<string, Consent>> {
    const found = new Map<string, Consent>();
    if (phoneNumbers.length === 0) return found;
    const rows: { phone_number: string; status: ConsentStatus; source: string; at: Date }[] =
      await this.ds.query(
        `SELECT phone_number, status, source, at FROM sms_consents
          WHERE tenant_id = $1 AND channel = $2 AND phone_number = ANY($3::varchar[])`,
        [tenantId, channel, [...new Set(phoneNumbers)]],
      );
    for (const r of rows)
      found.set(r.phone_number, r.status === 'unknown' ? UNKNOWN_CONSENT : { ...r, at: r.at });
    return found;
  }

  /** Every change of one number's consent on every channel, oldest first (the dashboard's look-up). */
  async history(tenantId: number, phoneNumber: string): Promise<ConsentHistoryRow[]> {
    return this.ds.query(
      `SELECT channel, status, source, at, recorded_at, actor, keyword FROM sms_consent_events
        WHERE tenant_id = $1 AND phone_number = $2 ORDER BY id`,
      [tenantId, phoneNumber],
    );
  }

  /** Whether the tenant's promotional texts to a number of `country` need granted consent. */
  async required(tenantId: number, country: string | null): Promise<boolean> {
    return consentRequired((await this.tenants.ensure(tenantId)).settings.promotional_consent, country);
  }

  /**
   * The promotional-consent policy of the accept path: for these numbers (with their country),
   * a function that names `no_consent` for each one the tenant may not text promotionally (its
   * `promotional_consent` requires consent there and the number's SMS consent is not granted), or
   * null when none needs checking.
   */
  async refusals(
    tenantId: number,
    numbers: { phoneNumber: string; country: string | null }[],
  ): Promise<((phoneNumber: string) => typeof NO_CONSENT | null) | null> {
    const setting = (await this.tenants.ensure(tenantId)).settings.promotional_consent;
    const needed = numbers.filter((n) => consentRequired(setting, n.country)).map((n) => n.phoneNumber);
    if (needed.length === 0) return null;
    const consents = await this.of(tenantId, needed, 'sms');
    const refused = new Set(needed.filter((p) => consents.get(p)?.status !== 'granted'));
    return refused.size === 0 ? null : (p) => (refused.has(p) ? NO_CONSENT : null);
  }

  /** Changes recorded in [from, to) on every channel, oldest first (the İYS export; on the read replica when one serves reads). */
  async changes(tenantId: number, from: Date | null, to: Date): Promise<ConsentChange[]> {
    const rows: {
      phone_number: string;
      channel: ConsentChannel;
      status: ConsentStatus;
      source: string;
      at: Date;
      granted_before: boolean;
    }[] = await this.reads.run((ds) =>
      ds.query(
        `SELECT e.phone_number, e.channel, e.status, e.source, e.at,
              EXISTS (SELECT 1 FROM sms_consent_events g
                       WHERE g.tenant_id = e.tenant_id AND g.phone_number = e.phone_number
                         AND g.channel = e.channel AND g.id < e.id AND g.status = 'granted') AS granted_before
         FROM sms_consent_events e
        WHERE e.tenant_id = $1 AND ($2::timestamptz IS NULL OR e.recorded_at >= $2) AND e.recorded_at < $3
        ORDER BY e.recorded_at, e.id`,
        [tenantId, from, to],
      ),
    );
    return rows.map((r) => ({
      phoneNumber: r.phone_number,
      channel: r.channel,
      status: r.status,
      source: r.source,
      at: r.at,
      grantedBefore: r.granted_before,
    }));
  }
}
