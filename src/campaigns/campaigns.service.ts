import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit';
import { CallbacksService } from '../callbacks';
import { isSuperAdmin, Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitExceededError,
  ValidationFailedError,
} from '../common/errors';
import { AppConfig } from '../config/app-config';
import { CODE_MESSAGE_TYPES, isTransactional, Language } from '../core/message-types';
import { Micros } from '../core/money';
import {
  allowedCountries,
  DeliveryQueue,
  destinationRefusal,
  MessagesRepository,
  NewMessage,
  OptOutsService,
  PricingService,
} from '../messaging';
import { PhoneService } from '../phone';
import { SmsRouter } from '../providers';
import { SmsTemplateEntity, TemplatesService } from '../templates';
import { TenantsService } from '../tenancy';
import { PlanContext, Planned, planRecipient, SKIP_REASONS } from './campaign-plan';
import { isQuietHours } from '../core/quiet-hours';
import { filterSql, fromSql, Recipient, RecipientFilter } from './recipients.service';

export const CAMPAIGNS_QUEUE = 'sms-campaigns';
export const EXECUTE_JOB = 'execute';
export const DEFAULT_CAMPAIGN_DAILY_LIMIT = 50_000;

export type CampaignStatus = 'draft' | 'scheduled' | 'running' | 'completed' | 'canceled';

export interface CampaignFilters {
  roles?: string[];
  tenant_id?: number;
  languages?: string[];
  user_ids?: string[];
  tags?: string[];
}

export interface CampaignInput {
  name: string;
  templateId: string;
  filters: CampaignFilters;
  variables: Record<string, unknown>;
  scheduledFor?: Date;
}

export interface Campaign {
  id: string;
  tenantId: number;
  name: string;
  templateId: string;
  filters: CampaignFilters;
  variables: Record<string, unknown>;
  status: CampaignStatus;
  scheduledFor: Date | null;
  createdBy: string;
  totalRecipients: number;
  snapshotCursor: string | null;
  snapshotDone: boolean;
  startedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
}

interface CampaignRow {
  id: string;
  tenant_id: number;
  name: string;
  template_id: string;
  recipient_filters: CampaignFilters;
  variables: Record<string, unknown>;
  status: CampaignStatus;
  scheduled_for: Date | null;
  created_by: string;
  total_recipients: number;
  snapshot_cursor: string | null;
  snapshot_done: boolean;
  started_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
}

function toCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    templateId: r.template_id,
    filters: r.recipient_filters,
    variables: r.variables,
    status: r.status,
    scheduledFor: r.scheduled_for,
    createdBy: r.created_by,
    totalRecipients: r.total_recipients,
    snapshotCursor: r.snapshot_cursor,
    snapshotDone: r.snapshot_done,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    createdAt: r.created_at,
  };
}

export interface CampaignStatusView {
  campaign: Campaign;
  counts: Record<string, number>;
  skipped: Record<string, number>;
  estimatedCost: string | null;
  actualCost: string | null;
  currency: string;
  progress: number;
}

export interface Preview {
  total: number;
  willSend: number;
  byLanguage: Record<string, number>;
  skipped: Record<string, number>;
  segments: number;
  encoding: Record<string, number>;
  estimatedCost: Micros | null;
  currency: string;
  sample: Extract<Planned, { kind: 'send' }>[];
}

const NOT_HANDED_OVER = ['queued', 'scheduled'];
const FINAL = ['sent', 'delivered', 'undelivered', 'failed', 'canceled'];

function toFilter(f: CampaignFilters): RecipientFilter {
  return { roles: f.roles, languages: f.languages, userIds: f.user_ids, tags: f.tags };
}

function zeroSkips(): Record<string, number> {
  return Object.fromEntries(SKIP_REASONS.map((r) => [r, 0]));
}

/**
 * Campaigns of a tenant: create (draft or scheduled), preview, execute once (a Bull job
 * snapshots the recipients into message rows, see `snapshot`), cancel, and the status counts.
 */
@Injectable()
export class CampaignsService {
  private readonly logger = new Logger(CampaignsService.name);
  /** Recipients read, rendered and inserted per transaction of a snapshot. */
  snapshotPageSize = 2000;

  constructor(
    private readonly callbacks: CallbacksService,
    @InjectDataSource() private readonly ds: DataSource,
    @InjectQueue(CAMPAIGNS_QUEUE) private readonly queue: Queue<{ campaignId: string }>,
    private readonly templates: TemplatesService,
    private readonly tenants: TenantsService,
    private readonly phone: PhoneService,
    private readonly optOuts: OptOutsService,
    private readonly pricing: PricingService,
    private readonly router: SmsRouter,
    private readonly messages: MessagesRepository,
    private readonly delivery: DeliveryQueue,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** The template a campaign may use: active, the tenant's or a default, not a code template. */
  private async template(tenantId: number, templateId: string): Promise<SmsTemplateEntity> {
    const t = await this.templates.get(tenantId, templateId);
    if (CODE_MESSAGE_TYPES.includes(t.messageType))
      throw ValidationFailedError.field('template_id', `a campaign cannot send ${t.messageType} codes`);
    return t;
  }

  /** 403 when the filters name another tenant (a super_admin may: it then acts for that tenant). */
  private tenantOf(p: Principal, filters: CampaignFilters): number {
    const named = filters.tenant_id;
    if (named === undefined || named === p.tenantId) return p.tenantId;
    if (isSuperAdmin(p)) return named;
    throw new ForbiddenError(`recipient_filters.tenant_id ${named} is not your tenant`);
  }

  private checkInput(input: CampaignInput, now: Date): void {
    if (input.scheduledFor && input.scheduledFor.getTime() <= now.getTime())
      throw ValidationFailedError.field('scheduled_for', 'scheduled_for must be in the future');
    for (const [k, v] of Object.entries(input.variables)) {
      if (typeof v !== 'string' && typeof v !== 'number')
        throw ValidationFailedError.field(`variables.${k}`, `variables.${k} must be text or a number`);
      if (String(v).length > 200)
        throw ValidationFailedError.field(`variables.${k}`, `variables.${k} is longer than 200 characters`);
    }
  }

  async create(p: Principal, input: CampaignInput): Promise<{ campaign: Campaign; estimated: number }> {
    const now = this.clock.now();
    this.checkInput(input, now);
    const tenantId = this.tenantOf(p, input.filters);
    await this.template(tenantId, input.templateId);
    await this.tenants.ensure(tenantId);
    const estimated = await this.count(tenantId, input.filters);
    const id = randomUUID();
    const campaign = await this.ds.transaction(async (m) => {
      const [row]: CampaignRow[] = await m.query(
        `INSERT INTO sms_campaigns (id, tenant_id, name, template_id, recipient_filters, variables, status,
                                    scheduled_for, created_by, total_recipients, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING *`,
        [
          id,
          tenantId,
          input.name,
          input.templateId,
          JSON.stringify(input.filters),
          JSON.stringify(input.variables),
          input.scheduledFor ? 'scheduled' : 'draft',
          input.scheduledFor ?? null,
          p.userId,
          estimated,
          now,
        ],
      );
      const c = toCampaign(row);
      await this.audit.record(
        p,
        'campaign.create',
        { type: 'campaign', id, tenantId },
        null,
        auditView(c),
        m,
      );
      return c;
    });
    return { campaign: campaign, estimated };
  }

  /** Recipients the filters select now (active or not). */
  async count(tenantId: number, filters: CampaignFilters): Promise<number> {
    const params: unknown[] = [tenantId];
    const where = filterSql(toFilter(filters), params, await this.defaultLanguage(tenantId));
    const [{ n }] = await this.ds.query(
      `SELECT count(*)::int AS n FROM sms_recipients r WHERE ${where}`,
      params,
    );
    return n;
  }

  async get(tenantId: number, id: string): Promise<Campaign> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound(id);
    const rows: CampaignRow[] = await this.ds.query(
      'SELECT * FROM sms_campaigns WHERE tenant_id = $1 AND id = $2',
      [tenantId, id],
    );
    if (rows.length === 0) throw notFound(id);
    return toCampaign(rows[0]);
  }

  async list(
    tenantId: number,
    before: { createdAt: Date; id: string } | undefined,
    limit: number,
  ): Promise<Campaign[]> {
    const params: unknown[] = [tenantId, limit];
    let where = 'tenant_id = $1';
    if (before) {
      params.push(before.createdAt, before.id);
      where += ' AND (created_at, id) < ($3, $4::uuid)';
    }
    const rows: CampaignRow[] = await this.ds.query(
      `SELECT * FROM sms_campaigns WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $2`,
      params,
    );
    return rows.map(toCampaign);
  }

  /** What executing would do, computed from the directory now; stores nothing. */
  async preview(p: Principal, input: CampaignInput): Promise<Preview> {
    this.checkInput(input, this.clock.now());
    const tenantId = this.tenantOf(p, input.filters);
    const template = await this.template(tenantId, input.templateId);
    const out: Preview = {
      total: 0,
      willSend: 0,
      byLanguage: {},
      skipped: zeroSkips(),
      segments: 0,
      encoding: {},
      estimatedCost: 0,
      currency: this.config.get('SMS_CURRENCY'),
      sample: [],
    };
    let after: string | undefined;
    for (;;) {
      const page = await this.page(tenantId, input.filters, after);
      if (page.length === 0) break;
      after = page[page.length - 1].userId;
      for (const planned of await this.plan(tenantId, template, input.variables, page)) {
        out.total += 1;
        if (planned.kind === 'skip') {
          out.skipped[planned.reason] = (out.skipped[planned.reason] ?? 0) + 1;
          continue;
        }
        out.willSend += 1;
        out.byLanguage[planned.language] = (out.byLanguage[planned.language] ?? 0) + 1;
        out.segments += planned.segments;
        out.encoding[planned.encoding] = (out.encoding[planned.encoding] ?? 0) + 1;
        const cost = this.pricing.estimate(this.router.primary(), planned.country, planned.segments);
        out.estimatedCost = out.estimatedCost === null || cost === null ? null : out.estimatedCost + cost;
        if (out.sample.length < 3) out.sample.push(planned);
      }
    }
    return out;
  }

  private async defaultLanguage(tenantId: number): Promise<Language> {
    return (await this.tenants.ensure(tenantId)).settings.default_language ?? 'en';
  }

  /** One keyset page of the recipients the filters select, by user_id. */
  private async page(
    tenantId: number,
    filters: CampaignFilters,
    after: string | undefined,
  ): Promise<Recipient[]> {
    const params: unknown[] = [tenantId];
    let where = filterSql(toFilter(filters), params, await this.defaultLanguage(tenantId));
    if (after !== undefined) {
      params.push(after);
      where += ` AND r.user_id > $${params.length}`;
    }
    params.push(this.snapshotPageSize);
    const rows = await this.ds.query(
      `SELECT r.* FROM sms_recipients r WHERE ${where} ORDER BY r.user_id LIMIT $${params.length}`,
      params,
    );
    return rows.map(fromSql);
  }

  /** Each recipient of a page: send (rendered in their language) or skip (with the reason). */
  private async plan(
    tenantId: number,
    template: SmsTemplateEntity,
    variables: Record<string, unknown>,
    page: Recipient[],
  ): Promise<Planned[]> {
    const settings = (await this.tenants.ensure(tenantId)).settings;
    const allowed = allowedCountries(settings.allowed_countries, this.config.get('DEFAULT_COUNTRY_CODE'));
    const normalize = (phone: string) => {
      const v = this.phone.forSend(phone);
      return v.valid ? { e164: v.e164, country: v.country } : null;
    };
    const optedOut = await this.optOuts.filter(
      tenantId,
      page.map((r) => r.phoneNumber),
    );
    const ctx: PlanContext = {
      content: template.content,
      declared: template.variables,
      campaignVariables: variables,
      tenantLanguage: settings.default_language ?? 'en',
      maxSegments: this.config.get('SMS_MAX_SEGMENTS'),
      normalize,
      refusal: (e164, country) => destinationRefusal(e164, allowed, country),
      optedOut,
      // Transactional templates ignore quiet hours; campaign messages of other types wait.
      quiet:
        settings.quiet_hours &&
        isQuietHours(settings.quiet_hours) &&
        !isTransactional(template.messageType, template.transactional)
          ? {
              window: settings.quiet_hours,
              tenantZone: settings.timezone ?? undefined,
              now: this.clock.now(),
            }
          : undefined,
    };
    return page.map((r) => planRecipient(r, ctx));
  }

  /**
   * Starts a draft or scheduled campaign: checks the tenant's campaign_daily_limit (429), moves it
   * to running and adds the snapshot job. Any other status is 409: a campaign runs once.
   */
  async execute(p: Principal | null, tenantId: number, id: string): Promise<Campaign> {
    await this.get(tenantId, id);
    const now = this.clock.now();
    const limit =
      (await this.tenants.ensure(tenantId)).settings.campaign_daily_limit ?? DEFAULT_CAMPAIGN_DAILY_LIMIT;
    const started = await this.ds.transaction(async (m) => {
      // One execute at a time per tenant, so two cannot both squeeze under the daily limit.
      await m.query('SELECT pg_advisory_xact_lock(7302130, $1)', [tenantId]);
      const [row]: CampaignRow[] = await m.query('SELECT * FROM sms_campaigns WHERE id = $1 FOR UPDATE', [
        id,
      ]);
      const c = toCampaign(row);
      if (c.status !== 'draft' && c.status !== 'scheduled')
        throw new ConflictError(`campaign ${id} is ${c.status}; a campaign executes once`);
      const recipients = await this.count(tenantId, c.filters);
      const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
      const [{ used }] = await m.query(
        `SELECT COALESCE(sum(total_recipients), 0)::int AS used FROM sms_campaigns
          WHERE tenant_id = $1 AND started_at >= $2 AND id <> $3`,
        [tenantId, dayStart, id],
      );
      if (used + recipients > limit) {
        const retry = Math.ceil((dayStart.getTime() + 86_400_000 - now.getTime()) / 1000);
        throw new RateLimitExceededError(
          `campaign_daily_limit exceeded: ${used} of ${limit} campaign recipients used today (UTC), this campaign has ${recipients}`,
          { limit, used, requested: recipients },
          { 'Retry-After': String(retry) },
        );
      }
      const [updated] = updatedRows<CampaignRow>(
        await m.query(
          `UPDATE sms_campaigns SET status = 'running', started_at = $2, total_recipients = $3, updated_at = $2
          WHERE id = $1 RETURNING *`,
          [id, now, recipients],
        ),
      );
      const after = toCampaign(updated);
      if (p)
        await this.audit.record(
          p,
          'campaign.execute',
          { type: 'campaign', id, tenantId },
          auditView(c),
          auditView(after),
          m,
        );
      return after;
    });
    await this.enqueueSnapshot(id).catch((e) =>
      this.logger.warn(
        { campaignId: id, err: String(e) },
        'snapshot enqueue failed; the campaign tick retries',
      ),
    );
    return started;
  }

  async enqueueSnapshot(id: string): Promise<void> {
    await this.queue.add(
      EXECUTE_JOB,
      { campaignId: id },
      {
        jobId: `campaign:${id}`,
        attempts: 10,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** Test seam and hook point: runs after each committed snapshot page. */
  async afterPage(_campaignId: string, _pageIndex: number): Promise<void> {}

  /**
   * The snapshot job: pages of recipients by user_id from the last committed cursor; each page in
   * one transaction (campaign row share-locked, so a cancel waits for it and then sees its rows)
   * inserts its messages (ON CONFLICT DO NOTHING) and skips and moves the cursor; then its queued
   * messages go to the delivery queue (chunk job ids repeat, so a retry adds nothing twice).
   * A crash anywhere resumes at the cursor: no recipient twice, none left out.
   */
  async snapshot(id: string): Promise<void> {
    const [row]: CampaignRow[] = await this.ds.query('SELECT * FROM sms_campaigns WHERE id = $1', [id]);
    if (!row) return;
    const c = toCampaign(row);
    if (c.status !== 'running' || c.snapshotDone) return;
    const template = await this.templates.get(c.tenantId, c.templateId);
    const transactional = isTransactional(template.messageType, template.transactional);
    const provider = this.router.primary();
    const currency = this.config.get('SMS_CURRENCY');
    let after = c.snapshotCursor ?? undefined;
    for (let pageIndex = 0; ; pageIndex++) {
      const page = await this.page(c.tenantId, c.filters, after);
      const planned = await this.plan(c.tenantId, template, c.variables, page);
      const now = this.clock.now();
      const ids = await this.ds.transaction(async (m) => {
        const [lock] = await m.query('SELECT status FROM sms_campaigns WHERE id = $1 FOR SHARE', [id]);
        if (lock?.status !== 'running') return null;
        const sends: (NewMessage & { recipientUserId: string })[] = [];
        const skips: { userId: string; reason: string }[] = [];
        for (const pl of planned) {
          if (pl.kind === 'skip') {
            skips.push({ userId: pl.userId, reason: pl.reason });
            continue;
          }
          sends.push({
            id: randomUUID(),
            statusCallbackUrl: null,
            tenantId: c.tenantId,
            userId: pl.userId,
            createdBy: c.createdBy,
            phoneNumber: pl.phoneNumber,
            body: pl.text,
            bodyCiphertext: null,
            messageType: template.messageType,
            language: pl.language,
            templateId: template.templateId,
            status: pl.deferredUntil ? 'scheduled' : 'queued',
            segments: pl.segments,
            encoding: pl.encoding,
            estimatedCost: this.pricing.estimate(provider, pl.country, pl.segments),
            currency,
            scheduledAt: pl.deferredUntil,
            batchId: null,
            campaignId: id,
            idempotencyKey: null,
            metadata: {},
            createdAt: now,
            recipientUserId: pl.userId,
          });
        }
        await this.messages.insertCampaignChunk(m, sends);
        await this.insertSkips(m, id, skips);
        const last = page.length ? page[page.length - 1].userId : after;
        await m.query(
          `UPDATE sms_campaigns SET snapshot_cursor = $2, snapshot_done = $3, updated_at = $4 WHERE id = $1`,
          [id, last ?? null, page.length < this.snapshotPageSize, now],
        );
        // This page's queued messages (new or from a crashed attempt), in a stable order.
        const queued: { id: string; due: Date | null }[] = await m.query(
          `SELECT id, scheduled_at AS due FROM sms_messages
            WHERE campaign_id = $1 AND recipient_user_id = ANY($2::varchar[])
              AND status IN ('queued', 'scheduled') ORDER BY recipient_user_id`,
          [id, sends.map((s) => s.recipientUserId)],
        );
        return queued;
      });
      if (ids === null) return; // canceled meanwhile
      // Deferred (quiet hours) messages wait in Bull until their window ends.
      const byDue = new Map<number, string[]>();
      for (const q of ids) {
        const due = q.due ? Math.max(0, new Date(q.due).getTime() - now.getTime()) : 0;
        byDue.set(due, [...(byDue.get(due) ?? []), q.id]);
      }
      // Campaign traffic goes to its own, paced queue (codes and other sends overtake it).
      for (const [delayMs, group] of byDue)
        await this.delivery.enqueueCampaignChunks(c.tenantId, group, { delayMs, transactional });
      await this.afterPage(id, pageIndex);
      if (page.length < this.snapshotPageSize) return;
      after = page[page.length - 1].userId;
    }
  }

  private async insertSkips(
    m: EntityManager,
    id: string,
    skips: { userId: string; reason: string }[],
  ): Promise<void> {
    if (skips.length === 0) return;
    await m.query(
      `INSERT INTO sms_campaign_skips (campaign_id, user_id, reason)
       SELECT $1, u, r FROM unnest($2::varchar[], $3::varchar[]) AS t(u, r)
       ON CONFLICT (campaign_id, user_id) DO NOTHING`,
      [id, skips.map((s) => s.userId), skips.map((s) => s.reason)],
    );
  }

  /**
   * Cancels a draft, scheduled or running campaign: its messages not yet handed to a provider
   * (queued, scheduled) become canceled in the same transaction. 409 once completed or canceled.
   */
  async cancel(p: Principal, tenantId: number, id: string): Promise<Campaign> {
    await this.get(tenantId, id);
    const now = this.clock.now();
    return this.ds.transaction(async (m) => {
      const [row]: CampaignRow[] = await m.query('SELECT * FROM sms_campaigns WHERE id = $1 FOR UPDATE', [
        id,
      ]);
      const before = toCampaign(row);
      if (before.status === 'completed' || before.status === 'canceled')
        throw new ConflictError(`campaign ${id} is ${before.status}`);
      const [updated] = updatedRows<CampaignRow>(
        await m.query(
          `UPDATE sms_campaigns SET status = 'canceled', canceled_at = $2, completed_at = $2, updated_at = $2
          WHERE id = $1 RETURNING *`,
          [id, now],
        ),
      );
      await m.query(
        `WITH canceled AS (
           UPDATE sms_messages SET status = 'canceled', updated_at = $3
            WHERE tenant_id = $1 AND campaign_id = $2 AND status = ANY($4::varchar[])
            RETURNING id
         )
         INSERT INTO sms_message_events (message_id, status, source, at)
         SELECT id, 'canceled', 'campaign', $3 FROM canceled`,
        [tenantId, id, now, NOT_HANDED_OVER],
      );
      const after = toCampaign(updated);
      await this.audit.record(
        p,
        'campaign.cancel',
        { type: 'campaign', id, tenantId },
        auditView(before),
        auditView(after),
        m,
      );
      return after;
    });
  }

  /** Counts by status and skip reason; marks the campaign completed once every message is final. */
  async status(tenantId: number, id: string): Promise<CampaignStatusView> {
    let campaign = await this.get(tenantId, id);
    const rows: { status: string; n: number; est: string | null; cost: string | null; unpriced: number }[] =
      await this.ds.query(
        `SELECT status, count(*)::int AS n, sum(estimated_cost)::text AS est, sum(cost)::text AS cost,
                count(*) FILTER (WHERE estimated_cost IS NULL)::int AS unpriced
           FROM sms_messages WHERE tenant_id = $1 AND campaign_id = $2 GROUP BY status`,
        [tenantId, id],
      );
    const skipRows: { reason: string; n: number }[] = await this.ds.query(
      'SELECT reason, count(*)::int AS n FROM sms_campaign_skips WHERE campaign_id = $1 GROUP BY reason',
      [id],
    );
    const counts: Record<string, number> = {};
    let messages = 0;
    let final = 0;
    let unpriced = 0;
    const est: string[] = [];
    const cost: string[] = [];
    for (const r of rows) {
      counts[r.status] = r.n;
      messages += r.n;
      if (FINAL.includes(r.status)) final += r.n;
      unpriced += r.unpriced;
      if (r.est) est.push(r.est);
      if (r.cost) cost.push(r.cost);
    }
    const skipped = zeroSkips();
    let skippedTotal = 0;
    for (const s of skipRows) {
      skipped[s.reason] = s.n;
      skippedTotal += s.n;
    }
    if (campaign.status === 'running' && campaign.snapshotDone && final === messages) {
      const now = this.clock.now();
      const [row] = updatedRows<CampaignRow>(
        await this.ds.query(
          `UPDATE sms_campaigns SET status = 'completed', completed_at = $2, total_recipients = $3, updated_at = $2
          WHERE id = $1 AND status = 'running' RETURNING *`,
          [id, now, messages + skippedTotal],
        ),
      );
      if (row) {
        campaign = toCampaign(row);
        // Only the caller whose UPDATE moved it to completed publishes: once per campaign.
        await this.callbacks.publish({
          tenantId: campaign.tenantId,
          type: 'campaign.completed',
          key: campaign.id,
          data: { campaign_id: campaign.id, name: campaign.name, total_recipients: campaign.totalRecipients },
        });
      }
    }
    const total = campaign.snapshotDone
      ? messages + skippedTotal
      : Math.max(campaign.totalRecipients, messages + skippedTotal);
    return {
      campaign,
      counts,
      skipped,
      estimatedCost: unpriced > 0 ? null : await this.sum(est),
      actualCost: await this.sum(cost),
      currency: this.config.get('SMS_CURRENCY'),
      progress:
        total === 0
          ? campaign.snapshotDone
            ? 1
            : 0
          : Math.round(((final + skippedTotal) / total) * 10_000) / 10_000,
    };
  }

  /** Exact decimal sum of numeric texts (done by PostgreSQL, never in floats). */
  private async sum(values: string[]): Promise<string | null> {
    if (values.length === 0) return null;
    const [{ s }] = await this.ds.query('SELECT sum(v)::text AS s FROM unnest($1::numeric[]) AS v', [values]);
    return s;
  }

  /** The tick: scheduled campaigns due now start; running ones whose snapshot job was lost are re-added. */
  async tick(): Promise<{ started: string[]; resumed: string[] }> {
    const now = this.clock.now();
    const due: { id: string; tenant_id: number }[] = await this.ds.query(
      `SELECT id, tenant_id FROM sms_campaigns WHERE status = 'scheduled' AND scheduled_for <= $1
        ORDER BY scheduled_for LIMIT 100`,
      [now],
    );
    const started: string[] = [];
    for (const d of due) {
      try {
        await this.execute(null, d.tenant_id, d.id);
        started.push(d.id);
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        this.logger.warn({ campaignId: d.id, err: e.message }, 'scheduled campaign not started');
        if (e.code === 'rate_limited') continue; // tried again on the next tick
      }
    }
    const stale: { id: string }[] = await this.ds.query(
      `SELECT id FROM sms_campaigns WHERE status = 'running' AND NOT snapshot_done AND updated_at < $1 LIMIT 100`,
      [new Date(now.getTime() - 60_000)],
    );
    for (const s of stale) await this.enqueueSnapshot(s.id);
    return { started, resumed: stale.map((s) => s.id) };
  }
}

/** TypeORM answers UPDATE … RETURNING with [rows, affected]. */
function updatedRows<T>(result: unknown): T[] {
  const r = result as [T[], number];
  return Array.isArray(r[0]) ? r[0] : (result as T[]);
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`campaign not found: ${id}`, { campaign_id: id });
}

function auditView(c: Campaign) {
  return {
    name: c.name,
    template_id: c.templateId,
    status: c.status,
    recipient_filters: c.filters,
    scheduled_for: c.scheduledFor?.toISOString() ?? null,
  };
}
