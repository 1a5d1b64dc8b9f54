import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac, hkdfSync, randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Batcher } from '../../common/batcher';
import { AppError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';

/** Who a key belongs to: keys are per tenant AND user (a service token's `sub` is its own user). */
export interface KeyOwner {
  tenantId: number;
  userId: string;
}

/** The outcome of claiming a key: go on (and `complete` or `release` it), or replay what is stored. */
export type Claim = { claimed: true; claimId: string } | { claimed: false; stored: unknown; createdAt: Date };

const WINDOW = `interval '24 hours'`;
/** A key claimed this long ago and never completed belongs to a request that died: it may be taken again. */
const ABANDONED = `interval '60 seconds'`;
/** A key row (`k`) that a new request may take over: past its window, or abandoned. */
const STALE = `(k.created_at <= now() - ${WINDOW} OR (k.status_code IS NULL AND k.created_at <= now() - ${ABANDONED}))`;
/**
 * Claims written by one statement at most, and such statements at once for this process. One at a
 * time: a claim statement takes ~1 ms, and while it runs the next requests' claims gather into the
 * next batch. With four at once, a burst was split four ways and the batches stayed small: keyed
 * sends did 1,390–1,660 req/s against 1,960–2,270 with one (docs/BENCHMARKS.md, "Keyed sends").
 */
const CLAIM_BATCH = 200;
const CLAIMS_IN_FLIGHT = 1;

interface ClaimRequest {
  owner: KeyOwner;
  key: string;
  hash: string;
  claimId: string;
}

/** What a claim found when its key was taken already: the row of the request that holds it. */
interface HeldKey {
  request_hash: string;
  status_code: number | null;
  response: unknown;
  created_at: Date;
  claim_id: string | null;
}

/** One key's identity within a batch of claims. */
function keyId(tenantId: number, userId: string, key: string): string {
  return `${tenantId}\u0000${userId}\u0000${key}`;
}

/** The order every batch of claims writes its keys in: tenant, user, key. */
function byKey(a: { owner: KeyOwner; key: string }, b: { owner: KeyOwner; key: string }): number {
  if (a.owner.tenantId !== b.owner.tenantId) return a.owner.tenantId - b.owner.tenantId;
  if (a.owner.userId !== b.owner.userId) return a.owner.userId < b.owner.userId ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Stable JSON: object keys sorted, so `{a,b}` and `{b,a}` hash alike. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Keyed, so the stored value reveals nothing: a request body can hold a caller's verification
 * code, and a plain SHA-256 of a 6-digit code is reversed by trying a million candidates.
 */
export function requestHash(key: Buffer, route: string, body: unknown): string {
  return createHmac('sha256', key).update(route).update('\n').update(stable(body)).digest('hex');
}

/** The refusals of a key name the header as the field at fault: the caller's key to change or wait on. */
const KEY_FIELD = 'Idempotency-Key';

export class IdempotencyMismatchError extends AppError {
  constructor(key: string) {
    const message = `Idempotency-Key "${key}" was already used with a different request body`;
    super('idempotency_mismatch', message, [
      { field: KEY_FIELD, errors: [message], rule: 'idempotency_key_reused' },
    ]);
  }
}

export class IdempotencyInFlightError extends AppError {
  constructor(key: string) {
    const message = `Idempotency-Key "${key}" is in use by a request still in progress; retry after it completes`;
    super(
      'conflict',
      message,
      [{ field: KEY_FIELD, errors: [message], rule: 'idempotency_key_in_flight', retry_after_seconds: 1 }],
      { 'Retry-After': '1' },
    );
  }
}

/**
 * `Idempotency-Key` per tenant and user for 24 hours (IETF Idempotency-Key draft). A request first
 * claims its key with one short statement (a row without a response); the messages and the
 * response are then written in one transaction (`complete`), or the claim is dropped when the
 * request fails (`release`) so the key can be retried. A duplicate that arrives while the first is
 * in flight gets a 409 with Retry-After at once (it never waits on a lock); one that arrives after
 * gets the stored result; the same key with another body is a 422. No method holds a connection
 * while asking the pool for another.
 */
@Injectable()
export class IdempotencyService {
  private readonly hashKey: Buffer;
  /**
   * Claims of concurrent requests, written by one statement (group commit, as their messages are):
   * a claim took a round trip of its own per keyed send, most of what a key cost (the SDKs send
   * one with every request).
   */
  private readonly claims = new Batcher<ClaimRequest, Claim | Error>(
    (rs) => this.claimMany(rs),
    CLAIM_BATCH,
    CLAIMS_IN_FLIGHT,
  );

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    config: AppConfig,
  ) {
    this.hashKey = Buffer.from(
      hkdfSync('sha256', config.dataKey(), 'sms-service', 'idempotency-request-v1', 32),
    );
  }

  /** The fingerprint an Idempotency-Key is bound to: route and body. */
  hash(route: string, body: unknown): string {
    return requestHash(this.hashKey, route, body);
  }

  /**
   * Claims the key (autocommit, no lock held afterwards). Returns the claim, or the stored result
   * of the request that completed it; throws IdempotencyInFlightError while that request is still
   * running and IdempotencyMismatchError when the key was used with another body. Claimed together
   * with the concurrent requests' keys; a batch the database refuses is tried again claim by claim,
   * so one bad key fails only its own request.
   */
  async claim(owner: KeyOwner, key: string, hash: string): Promise<Claim> {
    const request = { owner, key, hash, claimId: randomUUID() };
    let claim: Claim | Error;
    try {
      claim = await this.claims.submit(request);
    } catch {
      claim = (await this.claimMany([request]))[0];
    }
    if (claim instanceof Error) throw claim;
    return claim;
  }

  /**
   * The claims of a batch: one INSERT … ON CONFLICT DO NOTHING for every key, in key order, then one
   * read of the keys it did not take (no lock: a key whose request is still completing answers
   * 409 or its replay at once, and holds up no other key of the batch), and, rarely, the takeover
   * of keys past their window or abandoned. A key asked twice in one batch is claimed by its first
   * request; the later ones see that request in flight (409), or another body (422), as they
   * would a moment later.
   */
  private async claimMany(rs: ClaimRequest[]): Promise<(Claim | Error)[]> {
    const id = (r: ClaimRequest) => keyId(r.owner.tenantId, r.owner.userId, r.key);
    const first = new Map<string, ClaimRequest>();
    for (const r of rs) if (!first.has(id(r))) first.set(id(r), r);
    const asked = [...first.values()].sort(byKey);
    const columns = (xs: ClaimRequest[]) => [
      xs.map((r) => r.owner.tenantId),
      xs.map((r) => r.owner.userId),
      xs.map((r) => r.key),
    ];
    const claimColumns = (xs: ClaimRequest[]) => [
      ...columns(xs),
      xs.map((r) => r.hash),
      xs.map((r) => r.claimId),
    ];
    // DO NOTHING: a key whose row another transaction holds (its request completing, a bulk's
    // insert with it) is not waited for: its request is in flight, which the read below shows.
    const taken: { claim_id: string }[] = await this.ds.query(
      `INSERT INTO sms_idempotency_keys (tenant_id, user_id, key, request_hash, claim_id)
       SELECT * FROM unnest($1::int[], $2::varchar[], $3::varchar[], $4::char(64)[], $5::uuid[])
       ON CONFLICT (tenant_id, user_id, key) DO NOTHING
       RETURNING claim_id`,
      claimColumns(asked),
    );
    const claimed = new Set(taken.map((t) => t.claim_id));
    const others = asked.filter((r) => !claimed.has(r.claimId));
    const held = new Map<string, HeldKey & { stale: boolean }>();
    /** Keys found stale but not taken over: another request did, or theirs completed meanwhile. */
    const missed = new Set<string>();
    if (others.length > 0) {
      // By primary key, without a lock; a key released between the two statements has no row.
      const rows: (HeldKey & { tenant_id: number; user_id: string; key: string; stale: boolean })[] =
        await this.ds.query(
          `SELECT k.tenant_id, k.user_id, k.key, k.request_hash, k.status_code, k.response, k.created_at,
                  k.claim_id, ${STALE} AS stale
             FROM unnest($1::int[], $2::varchar[], $3::varchar[]) AS q(tenant_id, user_id, key)
             JOIN sms_idempotency_keys k
               ON k.tenant_id = q.tenant_id AND k.user_id = q.user_id AND k.key = q.key`,
          columns(others),
        );
      for (const row of rows) held.set(keyId(row.tenant_id, row.user_id, row.key), row);
      // Past its window, or abandoned by a request that died: taken over, if still so under the
      // row's lock (two requests taking one over: the second finds it fresh, in flight).
      const stale = others.filter((r) => held.get(id(r))?.stale);
      if (stale.length > 0) {
        const retaken: { claim_id: string }[] = await this.ds.query(
          // A CTE, so the driver answers the updated rows (an UPDATE alone answers [rows, count]).
          `WITH retaken AS (
             UPDATE sms_idempotency_keys k
                SET request_hash = q.request_hash, claim_id = q.claim_id, status_code = NULL,
                    response = NULL, created_at = now()
               FROM unnest($1::int[], $2::varchar[], $3::varchar[], $4::char(64)[], $5::uuid[])
                 AS q(tenant_id, user_id, key, request_hash, claim_id)
              WHERE k.tenant_id = q.tenant_id AND k.user_id = q.user_id AND k.key = q.key AND ${STALE}
             RETURNING q.claim_id)
           SELECT claim_id FROM retaken`,
          claimColumns(stale),
        );
        for (const t of retaken) claimed.add(t.claim_id);
        for (const r of stale) if (!claimed.has(r.claimId)) missed.add(id(r));
      }
    }
    return rs.map((r) => {
      const holder = first.get(id(r)) as ClaimRequest;
      if (holder === r && claimed.has(r.claimId)) return { claimed: true, claimId: r.claimId };
      if (holder !== r && claimed.has(holder.claimId))
        // Its first request in this batch holds the key now.
        return holder.hash === r.hash
          ? new IdempotencyInFlightError(r.key)
          : new IdempotencyMismatchError(r.key);
      // The caller retries, and then finds what the key holds now.
      if (missed.has(id(r))) return new IdempotencyInFlightError(r.key);
      return this.found(r, held.get(id(r)));
    });
  }

  /** What a request whose key was taken already gets: the stored result, or why not. */
  private found(r: ClaimRequest, row: HeldKey | undefined): Claim | Error {
    // Released between the insert and the read: the caller may simply retry.
    if (row === undefined) return new IdempotencyInFlightError(r.key);
    // Its own claim: a batch whose answer was lost after its commit, tried again alone.
    if (row.claim_id === r.claimId && row.status_code === null) return { claimed: true, claimId: r.claimId };
    if (row.request_hash !== r.hash) return new IdempotencyMismatchError(r.key);
    if (row.status_code === null) return new IdempotencyInFlightError(r.key);
    return { claimed: false, stored: row.response, createdAt: row.created_at };
  }

  /**
   * Stores the result inside the transaction that writes the messages. Throws (rolling the
   * transaction back) if the claim was lost, so two requests can never both write.
   */
  async complete(
    manager: EntityManager,
    owner: KeyOwner,
    key: string,
    claimId: string,
    stored: unknown,
  ): Promise<void> {
    const [done] = await this.completeMany(manager, [{ owner, key, claimId, stored }]);
    if (!done) throw new IdempotencyInFlightError(key);
  }

  /**
   * Stores each request's result under its key, in one statement, if its claim is still this
   * request's: whether each was stored (false: the claim was lost, IdempotencyInFlightError).
   * The keys are updated in the order claims lock them (byKey), so a batch of claims that meets
   * keys being completed waits for them in the same order, never in a cycle.
   */
  async completeMany(
    manager: EntityManager,
    unordered: { owner: KeyOwner; key: string; claimId: string; stored: unknown }[],
  ): Promise<boolean[]> {
    if (unordered.length === 0) return [];
    const items = unordered.map((x, i) => ({ ...x, i })).sort(byKey);
    const updated: { i: number }[] = await manager.query(
      // A CTE, so the driver answers the updated rows (an UPDATE alone answers [rows, count]).
      `WITH done AS (
         UPDATE sms_idempotency_keys k SET status_code = 202, response = c.response
           FROM unnest($1::int[], $2::varchar[], $3::varchar[], $4::uuid[], $5::jsonb[], $6::int[])
             AS c(tenant_id, user_id, key, claim_id, response, i)
          WHERE k.tenant_id = c.tenant_id AND k.user_id = c.user_id AND k.key = c.key
            AND k.claim_id = c.claim_id AND k.status_code IS NULL
         RETURNING c.i)
       SELECT i FROM done`,
      [
        items.map((x) => x.owner.tenantId),
        items.map((x) => x.owner.userId),
        items.map((x) => x.key),
        items.map((x) => x.claimId),
        items.map((x) => JSON.stringify(x.stored)),
        items.map((x) => x.i),
      ],
    );
    const done = new Set(updated.map((u) => u.i));
    return unordered.map((_, i) => done.has(i));
  }

  /** Drops an unfinished claim so the key can be used again (the request failed). */
  async release(owner: KeyOwner, key: string, claimId: string): Promise<void> {
    await this.ds.query(
      `DELETE FROM sms_idempotency_keys
        WHERE tenant_id = $1 AND user_id = $2 AND key = $3 AND claim_id = $4 AND status_code IS NULL`,
      [owner.tenantId, owner.userId, key, claimId],
    );
  }

  /** Retention: forget keys past their window. */
  async purgeExpired(): Promise<number> {
    const [, count] = await this.ds.query(
      `DELETE FROM sms_idempotency_keys WHERE created_at <= now() - ${WINDOW}`,
    );
    return Number(count ?? 0);
  }
}
