import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac, hkdfSync } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';

export interface StoredResponse<T> {
  statusCode: number;
  body: T;
}

const WINDOW = `interval '24 hours'`;

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

/**
 * `Idempotency-Key` per tenant for 24 hours, kept in PostgreSQL in the same transaction as the
 * messages it created: a replay returns the first response and sends nothing; the same key with
 * another body is a 422. Two concurrent requests with one key serialize on the primary key.
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

  /** The stored response for a key, if one is live; throws on a body mismatch. */
  async find<T>(tenantId: number, key: string, hash: string): Promise<StoredResponse<T> | null> {
    const rows: { request_hash: string; status_code: number | null; response: T | null }[] =
      await this.ds.query(
        `SELECT request_hash, status_code, response FROM sms_idempotency_keys
        WHERE tenant_id = $1 AND key = $2 AND created_at > now() - ${WINDOW}`,
        [tenantId, key],
      );
    if (rows.length === 0 || rows[0].status_code === null) return null;
    if (rows[0].request_hash !== hash) throw new IdempotencyMismatchError(key);
    return { statusCode: rows[0].status_code, body: rows[0].response as T };
  }

  /**
   * Claims the key inside `manager`'s transaction. Returns null when claimed (go on and call
   * `complete`), or the response of the request that holds it.
   */
  async claim<T>(
    manager: EntityManager,
    tenantId: number,
    key: string,
    hash: string,
  ): Promise<StoredResponse<T> | null> {
    const claimed: unknown[] = await manager.query(
      `INSERT INTO sms_idempotency_keys (tenant_id, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL, created_at = now()
         WHERE sms_idempotency_keys.created_at <= now() - ${WINDOW}
       RETURNING 1`,
      [tenantId, key, hash],
    );
    if (claimed.length > 0) return null;
    const existing = await this.find<T>(tenantId, key, hash);
    if (!existing) throw new Error('idempotency key held but has no response');
    return existing;
  }

  async complete<T>(
    manager: EntityManager,
    tenantId: number,
    key: string,
    response: StoredResponse<T>,
  ): Promise<void> {
    await manager.query(
      'UPDATE sms_idempotency_keys SET status_code = $3, response = $4 WHERE tenant_id = $1 AND key = $2',
      [tenantId, key, response.statusCode, JSON.stringify(response.body)],
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
