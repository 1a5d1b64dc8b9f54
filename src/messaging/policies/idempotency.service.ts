import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac, hkdfSync, randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
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

export class IdempotencyMismatchError extends AppError {
  constructor(key: string) {
    super('idempotency_mismatch', `Idempotency-Key "${key}" was already used with a different request body`);
  }
}

export class IdempotencyInFlightError extends AppError {
  constructor(key: string) {
    super(
      'conflict',
      `Idempotency-Key "${key}" is in use by a request still in progress; retry after it completes`,
      undefined,
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
   * running and IdempotencyMismatchError when the key was used with another body.
   */
  async claim(owner: KeyOwner, key: string, hash: string): Promise<Claim> {
    const claimId = randomUUID();
    const claimed: unknown[] = await this.ds.query(
      `INSERT INTO sms_idempotency_keys (tenant_id, user_id, key, request_hash, claim_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, claim_id = EXCLUDED.claim_id,
             status_code = NULL, response = NULL, created_at = now()
         WHERE sms_idempotency_keys.created_at <= now() - ${WINDOW}
            OR (sms_idempotency_keys.status_code IS NULL AND sms_idempotency_keys.created_at <= now() - ${ABANDONED})
       RETURNING 1`,
      [owner.tenantId, owner.userId, key, hash, claimId],
    );
    if (claimed.length > 0) return { claimed: true, claimId };
    const rows: { request_hash: string; status_code: number | null; response: unknown; created_at: Date }[] =
      await this.ds.query(
        `SELECT request_hash, status_code, response, created_at FROM sms_idempotency_keys
          WHERE tenant_id = $1 AND user_id = $2 AND key = $3`,
        [owner.tenantId, owner.userId, key],
      );
    // Released between our insert and this read: the caller may simply retry.
    if (rows.length === 0) throw new IdempotencyInFlightError(key);
    if (rows[0].request_hash !== hash) throw new IdempotencyMismatchError(key);
    if (rows[0].status_code === null) throw new IdempotencyInFlightError(key);
    return { claimed: false, stored: rows[0].response, createdAt: rows[0].created_at };
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
   */
  async completeMany(
    manager: EntityManager,
    items: { owner: KeyOwner; key: string; claimId: string; stored: unknown }[],
  ): Promise<boolean[]> {
    if (items.length === 0) return [];
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
        items.map((_, i) => i),
      ],
    );
    const done = new Set(updated.map((u) => u.i));
    return items.map((_, i) => done.has(i));
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
