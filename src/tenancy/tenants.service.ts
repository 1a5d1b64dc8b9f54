import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ConflictError, NotFoundError } from '../common/errors';
import { TenantEntity, TenantSettings } from './tenant.entity';

export interface TenantPatch {
  name?: string;
  active?: boolean;
  settings?: TenantSettings;
}

/** How long a tenant row is served from memory; updates through this process invalidate at once. */
const CACHE_TTL_MS = 5_000;

@Injectable()
export class TenantsService {
  private readonly repo: Repository<TenantEntity>;
  private readonly cache = new Map<number, { tenant: TenantEntity; until: number }>();
  /** One lookup per tenant at a time: when an entry expires under load, waiters share it. */
  private readonly loading = new Map<number, Promise<TenantEntity>>();
  /** Bumped by every write: a lookup that started before it does not cache what it read. */
  private version = 0;

  constructor(@InjectDataSource() ds: DataSource) {
    this.repo = ds.getRepository(TenantEntity);
  }

  /**
   * The platform signs tokens, so a tenant named in a valid token exists: create it on first use.
   * Cached briefly because every request asks.
   */
  async ensure(id: number): Promise<TenantEntity> {
    const hit = this.cache.get(id);
    if (hit && hit.until > Date.now()) return hit.tenant;
    const pending = this.loading.get(id);
    if (pending) return pending;
    const load = this.load(id).finally(() => this.loading.delete(id));
    this.loading.set(id, load);
    return load;
  }

  private async load(id: number): Promise<TenantEntity> {
    const version = this.version;
    await this.repo
      .createQueryBuilder()
      .insert()
      .values({ id, name: `tenant ${id}`, active: true, settings: {} })
      .orIgnore()
      .execute();
    const tenant = await this.repo.findOneByOrFail({ id });
    if (version === this.version) this.cache.set(id, { tenant, until: Date.now() + CACHE_TTL_MS });
    return tenant;
  }

  private forget(id: number): void {
    this.version += 1;
    this.cache.delete(id);
    this.loading.delete(id);
  }

  async get(id: number): Promise<TenantEntity> {
    const tenant = await this.repo.findOneBy({ id });
    if (!tenant) throw new NotFoundError(`tenant ${id} not found`);
    return tenant;
  }

  list(): Promise<TenantEntity[]> {
    return this.repo.find({ order: { id: 'ASC' } });
  }

  async create(id: number, name: string, settings: TenantSettings = {}): Promise<TenantEntity> {
    const result = await this.repo
      .createQueryBuilder()
      .insert()
      .values({ id, name, settings })
      .orIgnore()
      .returning('*')
      .execute();
    if (result.identifiers.length === 0 || result.raw.length === 0)
      throw new ConflictError(`tenant ${id} already exists`);
    this.forget(id);
    return this.get(id);
  }

  /** Every tenant with its body retention (days): its own `body_retention_days`, else `fallback`. */
  async bodyRetention(fallback: number): Promise<{ tenantId: number; days: number }[]> {
    const rows: { id: number; days: number | null }[] = await this.repo.query(
      `SELECT id, CASE WHEN jsonb_typeof(settings->'body_retention_days') = 'number'
                       THEN (settings->>'body_retention_days')::int END AS days
         FROM tenants ORDER BY id`,
    );
    return rows.map((r) => ({ tenantId: r.id, days: r.days ?? fallback }));
  }

  /**
   * One statement: the settings patch is merged into the stored settings by PostgreSQL (`||`), so
   * two admins changing different settings at once both keep theirs (a read, merge and save here
   * would let the later save put back the value the earlier one replaced).
   */
  async update(id: number, patch: TenantPatch): Promise<TenantEntity> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [, affected]: [unknown[], number] = await this.repo.query(
      `UPDATE tenants
          SET name = COALESCE($2, name),
              active = COALESCE($3, active),
              settings = settings || COALESCE($4::jsonb, '{}'::jsonb),
              updated_at = now()
        WHERE id = $1`,
      [
        id,
        patch.name ?? null,
        patch.active ?? null,
        patch.settings === undefined ? null : JSON.stringify(patch.settings),
      ],
    );
    this.forget(id);
    if (affected === 0) throw new NotFoundError(`tenant ${id} not found`);
    return this.get(id);
  }
}
