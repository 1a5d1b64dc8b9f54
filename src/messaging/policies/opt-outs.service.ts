import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Batcher } from '../../common/batcher';
import { NotFoundError } from '../../common/errors';
import { PhoneHasher } from './phone-hash';

/**
 * Where an opt-out came from (`sms_opt_outs.source`), which decides what may lift it:
 * - `keyword`: a STOP texted to one of our numbers; a START text lifts it;
 * - `provider`: a send the provider refused because the recipient opted out with the carrier
 *   (Twilio 21610, SNS OptedOut); only a START the provider itself reports lifts it;
 * - `admin:<user id>`: an admin's; only an admin lifts it.
 * Any admin of the tenant can remove any of them.
 */
export const OPT_OUT_SOURCE = {
  keyword: 'inbound_keyword',
  provider: 'provider',
  admin: (userId: string) => `admin:${userId}`,
} as const;

/** Sources a text can lift (a keyword or carrier START), so an admin's opt-out takes them over. */
export const TEXT_LIFTABLE_SOURCES: readonly string[] = [OPT_OUT_SOURCE.keyword, OPT_OUT_SOURCE.provider];

/**
 * Which tenant's text a keyword STOP answered, as one tenant may see it: its own, another
 * tenant's (a STOP on a shared number opts the sender out for every tenant), or null (not a
 * keyword opt-out, a phone no tenant had texted, or recorded before this was kept). Another
 * tenant's id is never shown.
 */
export type AnsweredTenant = 'this_tenant' | 'another_tenant' | null;

export function answeredTenant(viewer: number, answeredTenantId: number | null): AnsweredTenant {
  if (answeredTenantId === null) return null;
  return answeredTenantId === viewer ? 'this_tenant' : 'another_tenant';
}

export interface OptOut {
  phoneNumber: string;
  source: string;
  reason: string | null;
  /** The tenant whose text a keyword STOP answered (see AnsweredTenant), or null. */
  answeredTenantId: number | null;
  createdAt: Date;
}

/** Why an opt-out changed, kept as a row of sms_opt_out_events with the change itself. */
export interface OptOutChangeSource {
  /** Who made the change: the recipient's number (a keyword), an admin's user id. */
  actor: string | null;
  /** The keyword that made it (e.g. "IPTAL"), if any. */
  keyword?: string | null;
  /** The sms_inbound_messages id that carried the keyword, if any. */
  inboundMessageId?: string | null;
  /** The tenant whose text the keyword answered (the one that last texted the sender), if any. */
  answeredTenantId?: number | null;
}

/** An entry as it stood (what a removal took off, what an admin's opt-out took over). */
export interface OptOutEntry {
  source: string;
  reason: string | null;
}

/**
 * Numbers a tenant must not text. Sends to them are refused before anything is stored, so an
 * opted-out recipient is neither texted nor billed again. Every method takes the tenant id.
 */
@Injectable()
export class OptOutsService {
  /** Lookups of concurrent sends share one query (the send path's hottest extra round trip). */
  private readonly lookups: Batcher<{ tenantId: number; phoneNumbers: string[] }, Set<string>>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly hasher: PhoneHasher,
  ) {
    this.lookups = new Batcher(async (groups) => {
      const tenants = groups.flatMap((g) => g.phoneNumbers.map(() => g.tenantId));
      const phones = groups.flatMap((g) => g.phoneNumbers);
      // The clear entries, and which of these tenants list erased numbers (sms_opt_out_hashes,
      // marked by a null phone): only their numbers are hashed and asked again.
      const rows: { tenant_id: number; phone_number: string | null }[] = await this.ds.query(
        `SELECT o.tenant_id, o.phone_number FROM sms_opt_outs o
           JOIN unnest($1::int[], $2::varchar[]) AS q(tenant_id, phone_number)
             ON o.tenant_id = q.tenant_id AND o.phone_number = q.phone_number
         UNION ALL
         SELECT t, NULL FROM unnest($3::int[]) AS t
          WHERE EXISTS (SELECT 1 FROM sms_opt_out_hashes h WHERE h.tenant_id = t)`,
        [tenants, phones, [...new Set(tenants)]],
      );
      const hits = new Set(
        rows.filter((r) => r.phone_number !== null).map((r) => `${r.tenant_id}:${r.phone_number}`),
      );
      const hashed = new Set(rows.filter((r) => r.phone_number === null).map((r) => r.tenant_id));
      if (hashed.size > 0) {
        const asked = groups.flatMap((g) =>
          hashed.has(g.tenantId)
            ? g.phoneNumbers.map((p) => ({ t: g.tenantId, p, h: this.hasher.hash(p) }))
            : [],
        );
        const found: { tenant_id: number; phone_hash: string }[] = await this.ds.query(
          `SELECT h.tenant_id, h.phone_hash FROM sms_opt_out_hashes h
             JOIN unnest($1::int[], $2::varchar[]) AS q(tenant_id, phone_hash)
               ON h.tenant_id = q.tenant_id AND h.phone_hash = q.phone_hash`,
          [asked.map((a) => a.t), asked.map((a) => a.h)],
        );
        const listed = new Set(found.map((f) => `${f.tenant_id}:${f.phone_hash}`));
        for (const a of asked) if (listed.has(`${a.t}:${a.h}`)) hits.add(`${a.t}:${a.p}`);
      }
      return groups.map((g) => new Set(g.phoneNumbers.filter((p) => hits.has(`${g.tenantId}:${p}`))));
    }, 200);
  }

  /** The subset of `phoneNumbers` (E.164) that opted out from `tenantId`. */
  filter(tenantId: number, phoneNumbers: string[]): Promise<Set<string>> {
    if (phoneNumbers.length === 0) return Promise.resolve(new Set());
    return this.lookups.submit({ tenantId, phoneNumbers });
  }

  /** True when the number was not on the list before. */
  async add(
    tenantId: number,
    phoneNumber: string,
    source: string,
    reason: string | null,
    // Every change is an event on the list: who made it, if the caller knows.
    change: OptOutChangeSource = { actor: null },
  ): Promise<boolean> {
    return (await this.put(tenantId, phoneNumber, source, reason, change, [])) !== null;
  }

  /**
   * Puts the number on the list, taking over an entry whose source is one of `replacing` (it
   * keeps its creation time). Null when nothing changed (listed already, by another source); else
   * the entry it replaced (null when the number was not listed).
   */
  async put(
    tenantId: number,
    phoneNumber: string,
    source: string,
    reason: string | null,
    change: OptOutChangeSource,
    replacing: readonly string[],
  ): Promise<{ replaced: OptOutEntry | null } | null> {
    // The event is written by the same statement as the change (or not at all); `old` reads the
    // entry as it was before the statement.
    const rows: { old_source: string | null; old_reason: string | null }[] = await this.ds.query(
      `WITH old AS (
         SELECT source, reason FROM sms_opt_outs WHERE tenant_id = $1 AND phone_number = $2
       ), added AS (
         INSERT INTO sms_opt_outs (tenant_id, phone_number, source, reason, answered_tenant_id)
         VALUES ($1, $2, $3, $4, $8)
         ON CONFLICT (tenant_id, phone_number) DO UPDATE
           SET source = EXCLUDED.source, reason = EXCLUDED.reason, answered_tenant_id = EXCLUDED.answered_tenant_id
           WHERE sms_opt_outs.source = ANY($9::varchar[])
         RETURNING tenant_id, phone_number
       ), event AS (
         INSERT INTO sms_opt_out_events
           (tenant_id, phone_number, action, source, actor, keyword, inbound_message_id, answered_tenant_id)
         SELECT tenant_id, phone_number, 'opt_out', $3, $5, $6, $7::bigint, $8 FROM added
       )
       SELECT old.source AS old_source, old.reason AS old_reason FROM added LEFT JOIN old ON true`,
      [tenantId, phoneNumber, source, reason, ...changeParams(change), [...replacing]],
    );
    if (rows.length === 0) return null;
    const { old_source, old_reason } = rows[0];
    return { replaced: old_source === null ? null : { source: old_source, reason: old_reason } };
  }

  /**
   * Takes the number off the lists of `tenantIds` where its entry came from one of `sources`
   * (entries from other sources stay); returns the tenants it came off, each with an opt_in event.
   */
  async lift(
    tenantIds: number[],
    phoneNumber: string,
    sources: readonly string[],
    change: OptOutChangeSource & { source: string },
  ): Promise<number[]> {
    if (tenantIds.length === 0 || sources.length === 0) return [];
    const rows: { tenant_id: number }[] = await this.ds.query(
      `WITH removed AS (
         DELETE FROM sms_opt_outs
          WHERE tenant_id = ANY($1::int[]) AND phone_number = $2 AND source = ANY($3::varchar[])
         RETURNING tenant_id, phone_number
       ), event AS (
         INSERT INTO sms_opt_out_events
           (tenant_id, phone_number, action, source, actor, keyword, inbound_message_id, answered_tenant_id)
         SELECT tenant_id, phone_number, 'opt_in', $4, $5, $6, $7::bigint, $8 FROM removed
       )
       SELECT tenant_id FROM removed ORDER BY tenant_id`,
      [tenantIds, phoneNumber, [...sources], change.source, ...changeParams(change)],
    );
    return rows.map((r) => r.tenant_id);
  }

  /** Takes the number off the list whatever its source; returns what was removed. */
  async remove(
    tenantId: number,
    phoneNumber: string,
    change: OptOutChangeSource & { source: string } = { actor: null, source: 'admin' },
  ): Promise<OptOutEntry> {
    const rows: OptOutEntry[] = await this.ds.query(
      `WITH removed AS (
         DELETE FROM sms_opt_outs WHERE tenant_id = $1 AND phone_number = $2
         RETURNING tenant_id, phone_number, source, reason
       ), event AS (
         INSERT INTO sms_opt_out_events
           (tenant_id, phone_number, action, source, actor, keyword, inbound_message_id, answered_tenant_id)
         SELECT tenant_id, phone_number, 'opt_in', $3, $4, $5, $6::bigint, $7 FROM removed
       )
       SELECT source, reason FROM removed`,
      [tenantId, phoneNumber, change.source, ...changeParams(change)],
    );
    if (rows.length === 0) throw new NotFoundError(`${phoneNumber} is not on the opt-out list`);
    return rows[0];
  }

  /**
   * An erasure's suppression (data-subject requests): lists the number's keyed hash for each of
   * `tenantIds` (source `erasure`, or the clear entry's own source when it was listed), then takes
   * its clear entries and events off (the events keep their actions, the number becomes
   * `erased`). Returns how many clear entries and events it changed.
   */
  async suppressErased(
    tenantIds: number[],
    phoneNumber: string,
    m: EntityManager = this.ds.manager,
  ): Promise<{ optOuts: number; optOutEvents: number }> {
    const hash = this.hasher.hash(phoneNumber);
    await m.query(
      `INSERT INTO sms_opt_out_hashes (tenant_id, phone_hash, source)
       SELECT t, $2, coalesce((SELECT source FROM sms_opt_outs WHERE tenant_id = t AND phone_number = $3), 'erasure')
         FROM unnest($1::int[]) AS t
       ON CONFLICT (tenant_id, phone_hash) DO NOTHING`,
      [tenantIds, hash, phoneNumber],
    );
    const [, optOuts] = (await m.query(
      'DELETE FROM sms_opt_outs WHERE tenant_id = ANY($1::int[]) AND phone_number = $2',
      [tenantIds, phoneNumber],
    )) as [unknown, number];
    const [, optOutEvents] = (await m.query(
      `UPDATE sms_opt_out_events SET phone_number = 'erased', actor = CASE WHEN actor = $2 THEN 'erased' ELSE actor END
        WHERE tenant_id = ANY($1::int[]) AND phone_number = $2`,
      [tenantIds, phoneNumber],
    )) as [unknown, number];
    return { optOuts, optOutEvents };
  }

  /** The number's opt-out entry and its history for one tenant (a data-subject export). */
  async history(
    tenantId: number,
    phoneNumber: string,
  ): Promise<{ entry: Record<string, unknown> | null; events: Record<string, unknown>[] }> {
    const [entry] = (await this.ds.query(
      'SELECT source, reason, created_at FROM sms_opt_outs WHERE tenant_id = $1 AND phone_number = $2',
      [tenantId, phoneNumber],
    )) as Record<string, unknown>[];
    const events = (await this.ds.query(
      `SELECT action, source, keyword, at FROM sms_opt_out_events
        WHERE tenant_id = $1 AND phone_number = $2 ORDER BY at, id`,
      [tenantId, phoneNumber],
    )) as Record<string, unknown>[];
    return { entry: entry ?? null, events };
  }

  async list(tenantId: number): Promise<OptOut[]> {
    const rows: {
      phone_number: string;
      source: string;
      reason: string | null;
      answered_tenant_id: number | null;
      created_at: Date;
    }[] = await this.ds.query(
      `SELECT phone_number, source, reason, answered_tenant_id, created_at FROM sms_opt_outs
        WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 10000`,
      [tenantId],
    );
    return rows.map((r) => ({
      phoneNumber: r.phone_number,
      source: r.source,
      reason: r.reason,
      answeredTenantId: r.answered_tenant_id,
      createdAt: r.created_at,
    }));
  }
}

function changeParams(c: OptOutChangeSource): (string | number | null)[] {
  return [c.actor, c.keyword ?? null, c.inboundMessageId ?? null, c.answeredTenantId ?? null];
}
