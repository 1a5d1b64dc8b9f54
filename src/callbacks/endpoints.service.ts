import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit';
import { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors';
import { WebhookEventType } from './events';
import { newSigningSecret, SecretBox } from './secret-box';
import { CallbackUrlGuard } from './url-policy';

export interface WebhookEndpoint {
  id: string;
  tenantId: number;
  url: string;
  description: string | null;
  /** null: every event; []: none (the endpoint then only signs per-message callbacks). */
  events: WebhookEventType[] | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
  health: EndpointHealth;
}

/** How deliveries to it are going (`sms_webhook_targets`; a healthy endpoint has no row there). */
export interface EndpointHealth {
  /** Failed attempts in a row (timeouts, errors, non-2xx answers); 0 after a success or a resume. */
  consecutiveFailures: number;
  /** Backed off: it takes no delivery before this time. */
  backoffUntil: Date | null;
  /** Paused: it takes no delivery until a replay of one of its deliveries or a resume. */
  pausedAt: Date | null;
  pausedReason: string | null;
}

export interface NewEndpoint {
  url: string;
  description?: string | null;
  events?: WebhookEventType[] | null;
  active?: boolean;
}

interface Row {
  id: string;
  tenant_id: number;
  url: string;
  description: string | null;
  events: WebhookEventType[] | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
  consecutive_failures?: number | null;
  backoff_until?: Date | null;
  paused_at?: Date | null;
  paused_reason?: string | null;
}

const COLUMNS = 'id, tenant_id, url, description, events, active, created_at, updated_at';
/** An endpoint with its health, from `sms_webhook_endpoints e` joined as `WITH_HEALTH` says. */
const COLUMNS_WITH_HEALTH = `e.id, e.tenant_id, e.url, e.description, e.events, e.active, e.created_at, e.updated_at,
  h.consecutive_failures, h.backoff_until, h.paused_at, h.paused_reason`;
const WITH_HEALTH = 'sms_webhook_endpoints e LEFT JOIN sms_webhook_targets h ON h.target = e.id::text';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A tenant's webhook endpoints. Every query takes the tenant id; another tenant's endpoint is a
 * 404 like a missing one. The signing secret is generated here, returned once (create, rotate)
 * and stored only sealed with the data key.
 */
@Injectable()
export class EndpointsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly urls: CallbackUrlGuard,
  ) {}

  async create(p: Principal, input: NewEndpoint): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    await this.urls.check('url', input.url);
    const secret = newSigningSecret();
    const now = this.clock.now();
    return this.ds.transaction(async (m) => {
      const [row]: Row[] = await m.query(
        `INSERT INTO sms_webhook_endpoints
           (id, tenant_id, url, description, secret_ciphertext, events, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ${COLUMNS}`,
        [
          randomUUID(),
          p.tenantId,
          input.url,
          input.description ?? null,
          this.box.seal(secret),
          input.events ?? null,
          input.active ?? true,
          now,
        ],
      );
      const endpoint = toEndpoint(row);
      await this.audit.record(
        p,
        'webhook_endpoint.create',
        { type: 'webhook_endpoint', id: row.id },
        null,
        endpoint,
        m,
      );
      return { endpoint, secret };
    });
  }

  async list(tenantId: number): Promise<WebhookEndpoint[]> {
    const rows: Row[] = await this.ds.query(
      `SELECT ${COLUMNS_WITH_HEALTH} FROM ${WITH_HEALTH} WHERE e.tenant_id = $1 AND e.deleted_at IS NULL
        ORDER BY e.created_at, e.id`,
      [tenantId],
    );
    return rows.map(toEndpoint);
  }

  /** Soft delete: deliveries keep naming it; its pending ones end as failed when they come due. */
  async remove(p: Principal, id: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const before = await this.find(p.tenantId, id, m);
      await m.query(
        'UPDATE sms_webhook_endpoints SET deleted_at = $3, active = false, updated_at = $3 WHERE tenant_id = $1 AND id = $2',
        [p.tenantId, id, this.clock.now()],
      );
      await this.audit.record(
        p,
        'webhook_endpoint.delete',
        { type: 'webhook_endpoint', id },
        before,
        null,
        m,
      );
    });
  }

  /** A new secret at once; the old one stops signing immediately. */
  async rotateSecret(p: Principal, id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const secret = newSigningSecret();
    return this.ds.transaction(async (m) => {
      await this.find(p.tenantId, id, m);
      await m.query(
        `UPDATE sms_webhook_endpoints SET secret_ciphertext = $3, secret_unsealed = NULL, updated_at = $4
          WHERE tenant_id = $1 AND id = $2`,
        [p.tenantId, id, this.box.seal(secret), this.clock.now()],
      );
      const endpoint = await this.find(p.tenantId, id, m);
      // The secret itself is never audited: the entry says only that it changed.
      await this.audit.record(
        p,
        'webhook_endpoint.rotate_secret',
        { type: 'webhook_endpoint', id },
        { secret: '[previous]' },
        { secret: '[rotated]' },
        m,
      );
      return { endpoint, secret };
    });
  }

  /**
   * Lifts a pause or a backoff and forgets the failures: the endpoint takes deliveries again at
   * once, its waiting ones first. Harmless on a healthy endpoint.
   */
  async resume(p: Principal, id: string): Promise<WebhookEndpoint> {
    return this.ds.transaction(async (m) => {
      const before = await this.find(p.tenantId, id, m);
      await m.query('DELETE FROM sms_webhook_targets WHERE target = $1', [before.id]);
      const after = await this.find(p.tenantId, id, m);
      await this.audit.record(
        p,
        'webhook_endpoint.resume',
        { type: 'webhook_endpoint', id },
        { health: before.health },
        { health: after.health },
        m,
      );
      return after;
    });
  }

  private async find(tenantId: number, id: string, m = this.ds.manager): Promise<WebhookEndpoint> {
    const rows: Row[] = UUID.test(id)
      ? await m.query(
          `SELECT ${COLUMNS_WITH_HEALTH} FROM ${WITH_HEALTH}
            WHERE e.tenant_id = $1 AND e.id = $2 AND e.deleted_at IS NULL FOR UPDATE OF e`,
          [tenantId, id],
        )
      : [];
    if (rows.length === 0) throw new NotFoundError(`webhook endpoint ${id} not found`);
    return toEndpoint(rows[0]);
  }
}

function toEndpoint(r: Row): WebhookEndpoint {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    description: r.description,
    events: r.events,
    active: r.active,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    health: {
      consecutiveFailures: r.consecutive_failures ?? 0,
      backoffUntil: r.backoff_until ?? null,
      pausedAt: r.paused_at ?? null,
      pausedReason: r.paused_reason ?? null,
    },
  };
}
