/**
 * Small row factories for tests that need rows a service did not write in the test itself: one
 * plain SQL statement each, with defaults for every column the test does not care about. They
 * take a DataSource, so the medium tier (`ctx.ds`) and e2e specs (`t.get(DataSource)`) share them.
 *
 * A row's tenant is created on first use, as TenantsService.ensure would (settings `{}`). To give
 * a tenant settings, create it with `newTenant` before any service reads it: TenantsService caches
 * a tenant for a few seconds, so later changes go through `TenantsService.update`.
 */
import { DataSource } from 'typeorm';
import type { TenantSettings } from '../../src/tenancy';
import { freshTenantId } from '../support/ids';

export { freshTenantId };

export interface TenantSeed {
  id?: number;
  name?: string;
  active?: boolean;
  settings?: TenantSettings;
}

/** A tenant row; returns its id (a fresh one unless given). */
export async function newTenant(ds: DataSource, seed: TenantSeed = {}): Promise<number> {
  const id = seed.id ?? freshTenantId();
  await ds.query('INSERT INTO tenants (id, name, active, settings) VALUES ($1, $2, $3, $4)', [
    id,
    seed.name ?? `tenant ${id}`,
    seed.active ?? true,
    JSON.stringify(seed.settings ?? {}),
  ]);
  return id;
}

async function ensureTenant(ds: DataSource, id: number): Promise<void> {
  await ds.query(
    `INSERT INTO tenants (id, name, active, settings) VALUES ($1, $2, true, '{}') ON CONFLICT (id) DO NOTHING`,
    [id, `tenant ${id}`],
  );
}

export interface MessageSeed {
  tenant: number;
  /** How many rows (default 1), all alike. */
  n?: number;
  phone?: string;
  createdBy?: string;
  type?: string;
  language?: string;
  body?: string;
  segments?: number;
  /** Per message, a decimal string in `currency`. */
  estimate?: string | null;
  currency?: string;
  campaign?: string | null;
  /** Acceptance time (created_at); default the database's now(). */
  createdAt?: Date;
}

/**
 * Accepted messages (status `queued`), inserted as the accept path inserts them: one INSERT, so
 * the table's triggers (stats rollup, callbacks outbox) see what they see in production. Move them
 * on with `markSent` and `markFinal`. Returns the ids.
 */
export async function newMessages(ds: DataSource, seed: MessageSeed): Promise<string[]> {
  await ensureTenant(ds, seed.tenant);
  const rows: { id: string }[] = await ds.query(
    `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, language, status,
                               segments, encoding, estimated_cost, currency, campaign_id, created_at, updated_at)
     SELECT gen_random_uuid(), $1, $2, $3, $4, $5, $6, 'queued', $7, 'GSM-7', $8::numeric, $9, $10::uuid,
            coalesce($11::timestamptz, now()), coalesce($11::timestamptz, now())
       FROM generate_series(1, $12)
     RETURNING id`,
    [
      seed.tenant,
      seed.createdBy ?? 'seeder',
      seed.phone ?? '+12025550123',
      seed.body ?? 'seeded',
      seed.type ?? 'general_notification',
      seed.language ?? 'en',
      seed.segments ?? 2,
      seed.estimate === undefined ? '0.0079' : seed.estimate,
      seed.currency ?? 'USD',
      seed.campaign ?? null,
      seed.createdAt ?? null,
      seed.n ?? 1,
    ],
  );
  return rows.map((r) => r.id);
}

/** Hands messages to a provider (status sent, a provider id, sent a second after acceptance), as the worker does. */
export async function markSent(ds: DataSource, ids: string[], provider = 'twilio'): Promise<void> {
  await ds.query(
    `UPDATE sms_messages SET status = 'sent', provider = $2, provider_message_id = 'SM' || replace(id::text, '-', ''),
            sent_at = created_at + interval '1 second', attempts = 1
      WHERE id = ANY($1::uuid[])`,
    [ids, provider],
  );
}

/** The provider's final word on sent messages, as a receipt applies it: status, cost, and for `delivered` its latency. */
export async function markFinal(
  ds: DataSource,
  ids: string[],
  status: 'delivered' | 'undelivered' | 'failed',
  cost: string | null,
  latencyMs = 1500,
): Promise<void> {
  await ds.query(
    `UPDATE sms_messages SET status = $2::varchar, cost = $3::numeric,
            delivered_at = CASE WHEN $2::varchar = 'delivered' THEN sent_at + make_interval(secs => $4::double precision / 1000) END
      WHERE id = ANY($1::uuid[])`,
    [ids, status, cost, latencyMs],
  );
}

export interface TemplateSeed {
  /** The built-in defaults (tenant NULL) are seeded by the migrations. */
  tenant: number;
  templateId: string;
  name?: string;
  messageType?: string;
  content: Record<string, string>;
  variables?: string[];
  active?: boolean;
}

/** A tenant's own template row (it shadows a default with the same id), without the API's checks. */
export async function newTemplate(ds: DataSource, seed: TemplateSeed): Promise<void> {
  await ensureTenant(ds, seed.tenant);
  await ds.query(
    `INSERT INTO sms_templates (tenant_id, template_id, name, message_type, content, variables, is_active)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      seed.tenant,
      seed.templateId,
      seed.name ?? seed.templateId,
      seed.messageType ?? 'general_notification',
      JSON.stringify(seed.content),
      JSON.stringify(seed.variables ?? []),
      seed.active ?? true,
    ],
  );
}

/** A number on a tenant's opt-out list (no event row: as if it had been there before events). */
export async function newOptOut(
  ds: DataSource,
  seed: { tenant: number; phone: string; source?: string; reason?: string | null },
): Promise<void> {
  await ensureTenant(ds, seed.tenant);
  await ds.query(
    'INSERT INTO sms_opt_outs (tenant_id, phone_number, source, reason) VALUES ($1, $2, $3, $4)',
    [seed.tenant, seed.phone, seed.source ?? 'admin', seed.reason ?? null],
  );
}
