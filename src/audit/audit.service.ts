import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { redact } from './redact';
import { currentClientRequestId, currentRequestId } from '../logging';

/** What changed: `type` and `id` name it; `tenantId` is whose it is (default: the tenant the actor acts for). */
export interface AuditTarget {
  type: string;
  id: string | number;
  tenantId?: number;
}

export interface AuditEntry {
  id: string;
  at: Date;
  tenantId: number;
  actorSub: string;
  actorTenantId: number;
  actorRoles: string[];
  requestId: string | null;
  /** The caller's own X-Request-Id, when it sent one. */
  clientRequestId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  before: unknown;
  after: unknown;
}

export interface AuditFilter {
  /** Undefined: every tenant (super_admin only; the controller decides). */
  tenantId?: number;
  action?: string;
  actor?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  /** Keyset cursor: entries strictly older than this (at, id). */
  before?: { at: Date; id: string };
  limit: number;
}

/** `<target type>.<verb>`, e.g. `template.update`. */
const ACTION = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;
const PURGE_CHUNK = 10_000;

interface Row {
  id: string;
  at: Date;
  tenant_id: number;
  actor_sub: string;
  actor_tenant_id: number;
  actor_roles: string[];
  request_id: string | null;
  client_request_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  before: unknown;
  after: unknown;
}

/**
 * The append-only audit trail of administrative changes (`sms_audit_log`). A service that changes
 * data in a transaction passes its `EntityManager`, so the entry commits or rolls back with the
 * change; otherwise it records right after the change succeeded.
 */
@Injectable()
export class AuditService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /**
   * Records who (`actor`, and the current request id), what (`action` on `target`, `before` and
   * `after` with secret-looking keys redacted; null for "did not exist") and when.
   */
  async record(
    actor: Principal,
    action: string,
    target: AuditTarget,
    before: unknown,
    after: unknown,
    manager?: EntityManager,
  ): Promise<void> {
    if (!ACTION.test(action) || action.length > 64) throw new Error(`audit action "${action}" is malformed`);
    const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(redact(v)));
    await (manager ?? this.ds.manager).query(
      `INSERT INTO sms_audit_log (at, tenant_id, actor_sub, actor_tenant_id, actor_roles, request_id,
         action, target_type, target_id, before, after, client_request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12)`,
      [
        this.clock.now(),
        target.tenantId ?? actor.tenantId,
        actor.userId,
        actor.homeTenantId,
        actor.roles,
        currentRequestId(),
        action,
        target.type,
        String(target.id).slice(0, 200),
        json(before),
        json(after),
        currentClientRequestId(),
      ],
    );
  }

  /** Newest first. */
  async list(f: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.tenantId !== undefined) add('tenant_id = ?', f.tenantId);
    if (f.action !== undefined) add('action = ?', f.action);
    if (f.actor !== undefined) add('actor_sub = ?', f.actor);
    if (f.targetType !== undefined) add('target_type = ?', f.targetType);
    if (f.targetId !== undefined) add('target_id = ?', f.targetId);
    if (f.from !== undefined) add('at >= ?', f.from);
    if (f.to !== undefined) add('at < ?', f.to);
    if (f.before) {
      params.push(f.before.at, f.before.id);
      where.push(`(at, id) < ($${params.length - 1}, $${params.length}::bigint)`);
    }
    params.push(f.limit);
    const rows: Row[] = await this.ds.query(
      `SELECT * FROM sms_audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toEntry);
  }

  /** One entry; `tenantId` undefined reads any tenant's. Another tenant's entry is 404, like a missing one. */
  async get(id: string, tenantId: number | undefined): Promise<AuditEntry> {
    const rows: Row[] = /^\d{1,18}$/.test(id)
      ? await this.ds.query(
          'SELECT * FROM sms_audit_log WHERE id = $1 AND ($2::int IS NULL OR tenant_id = $2)',
          [id, tenantId ?? null],
        )
      : [];
    if (rows.length === 0) throw new NotFoundError(`audit entry ${id} not found`);
    return toEntry(rows[0]);
  }

  /** Deletes entries older than SMS_AUDIT_RETENTION_DAYS, in chunks; returns how many. */
  async purgeExpired(days: number = this.config.get('SMS_AUDIT_RETENTION_DAYS')): Promise<number> {
    let total = 0;
    for (;;) {
      const [, deleted] = await this.ds.query(
        `DELETE FROM sms_audit_log WHERE id IN (
           SELECT id FROM sms_audit_log WHERE at < $1::timestamptz - make_interval(days => $2) LIMIT $3)`,
        [this.clock.now(), days, PURGE_CHUNK],
      );
      total += Number(deleted);
      if (Number(deleted) < PURGE_CHUNK) return total;
    }
  }
}

function toEntry(r: Row): AuditEntry {
  return {
    id: String(r.id),
    at: r.at,
    tenantId: r.tenant_id,
    actorSub: r.actor_sub,
    actorTenantId: r.actor_tenant_id,
    actorRoles: r.actor_roles,
    requestId: r.request_id,
    clientRequestId: r.client_request_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    before: r.before,
    after: r.after,
  };
}
