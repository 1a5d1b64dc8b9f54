import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
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
import { CODE_MESSAGE_TYPES, isTransactional, Language, Micros, uuidv7 } from '../core';
import { SendTimePlanner } from './send-time-planner';
import { TenantLock } from '../database/advisory-lock';
import { AcceptService, CampaignLedger, ChannelInput, PlannedInput, PlannedPreview } from '../messaging';
import { runningVariant, SmsTemplateEntity, TemplatesService, templatedChannel } from '../templates';
import { TenantsService } from '../tenancy';
import { PlanContext, Planned, planRecipient, SKIP_REASONS } from './campaign-plan';
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
  /** The campaign's own validity period (seconds); wins over the template's. Null: the template's. */
  validitySeconds?: number | null;
  /** `optimal`: each recipient's message at their best local hour within the window (issue 25); default `now`. */
  sendAt?: SendAt;
  /** The optimal send's window in hours from the campaign's start (1–72; default 24). */
  optimalWindowHours?: number | null;
  /** channels (issue 25): the campaign's channel fields; absent ones: the template's channel. */
  channel?: ChannelInput | null;
}

export type SendAt = 'now' | 'optimal';
export const DEFAULT_OPTIMAL_WINDOW_HOURS = 24;

export interface Campaign {
  id: string;
  tenantId: number;
  name: string;
  templateId: string;
  filters: CampaignFilters;
  variables: Record<string, unknown>;
  status: CampaignStatus;
  scheduledFor: Date | null;
  validitySeconds: number | null;
  sendAt: SendAt;
  /** `optimal` only: the window's length in hours. */
  optimalWindowHours: number | null;
  channel: ChannelInput | null;
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
  validity_seconds: number | null;
  send_at: SendAt;
  optimal_window_hours: number | null;
  channel_options: ChannelInput | null;
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
    validitySeconds: r.validity_seconds,
    sendAt: r.send_at ?? 'now',
    optimalWindowHours: r.optimal_window_hours,
    channel: r.channel_options ?? null,
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
  sample: { userId: string; language: Language; text: string; segments: number; encoding: string }[];
}

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
    private readonly accepting: AcceptService,
    private readonly ledger: CampaignLedger,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly sendTimes: SendTimePlanner,
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
    if (input.optimalWindowHours != null && input.sendAt !== 'optimal')
      throw ValidationFailedError.field(
        'optimal_window_hours',
        'optimal_window_hours applies only with send_at "optimal"',
      );
  }

  async create(p: Principal, input: CampaignInput): Promise<{ campaign: Campaign; estimated: number }> {
    const now = this.clock.now();
    this.checkInput(input, now);
    const tenantId = this.tenantOf(p, input.filters);
    const template = await this.template(tenantId, input.templateId);
    // channels (issue 25): the fields are checked now (400), not when the snapshot runs.
    await this.accepting.checkChannel({
      ...templatedChannel(input.channel ?? undefined, template, template.messageType),
      messageType: template.messageType,
    });
    await this.tenants.ensure(tenantId);
    const estimated = await this.count(tenantId, input.filters);
    // UUIDv7: its messages' ids carry the campaign's time (campaignMessageId).
    const id = uuidv7(now);
    const campaign = await this.ds.transaction(async (m) => {
      const [row]: CampaignRow[] = await m.query(
        `INSERT INTO sms_campaigns (id, tenant_id, name, template_id, recipient_filters, variables, status,
                                    scheduled_for, created_by, total_recipients, validity_seconds,
                                    send_at, optimal_window_hours, created_at, updated_at, channel_options)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $13, $14, $11, $11, $15) RETURNING *`,
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
          input.validitySeconds ?? null,
          input.sendAt ?? 'now',
          input.sendAt === 'optimal' ? (input.optimalWindowHours ?? DEFAULT_OPTIMAL_WINDOW_HOURS) : null,
          input.channel ? JSON.stringify(input.channel) : null,
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

  /**
   * What executing would do, computed from the directory now by the same planner and the same
   * accept policies (destinations, opt-outs, length, quiet hours, pricing, the spend cap); stores
   * nothing and takes nothing.
   */
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
    const skip = (reason: string) => (out.skipped[reason] = (out.skipped[reason] ?? 0) + 1);
    let after: string | undefined;
    for (;;) {
      const page = await this.page(tenantId, input.filters, after);
      if (page.length === 0) break;
      after = page[page.length - 1].userId;
      out.total += page.length;
      const planned = await this.plan(tenantId, template, input.variables, page);
      for (const pl of planned) if (pl.kind === 'skip') skip(pl.reason);
      const window = optimalWindow(input.sendAt ?? 'now', input.optimalWindowHours ?? null, this.clock.now());
      const r: PlannedPreview = await this.accepting.previewPlanned(
        this.planned(
          {
            tenantId,
            createdBy: p.userId,
            id: '',
            validitySeconds: input.validitySeconds ?? null,
            channel: input.channel ?? null,
          },
          template,
          planned,
          window ? await this.sendTimes.plan(tenantId, planned, window) : undefined,
        ),
      );
      for (const x of r.rejected) skip(x.reason);
      for (const a of r.accepted) {
        out.willSend += 1;
        out.byLanguage[a.language] = (out.byLanguage[a.language] ?? 0) + 1;
        out.segments += a.segments;
        out.encoding[a.encoding] = (out.encoding[a.encoding] ?? 0) + 1;
        out.estimatedCost =
          out.estimatedCost === null || a.estimatedCost === null ? null : out.estimatedCost + a.estimatedCost;
        if (out.sample.length < 3)
          out.sample.push({
            userId: a.recipientUserId,
            language: a.language,
            text: a.text,
            segments: a.segments,
            encoding: a.encoding,
          });
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
    const ctx: PlanContext = {
      content: template.content,
      declared: template.variables,
      campaignVariables: variables,
      tenantLanguage: await this.defaultLanguage(tenantId),
      variantOf: template.variants ? (phone) => runningVariant(template, phone) : undefined,
    };
    return page.map((r) => planRecipient(r, ctx));
  }

  /** A page's planned sends, as the accept path's batch entry takes them. */
  private planned(
    c: {
      tenantId: number;
      createdBy: string;
      id: string;
      validitySeconds: number | null;
      channel: ChannelInput | null;
    },
    template: SmsTemplateEntity,
    planned: Planned[],
    /** `send_at: "optimal"`: each recipient's send time by user id (absent: now). */
    sendTimes?: Map<string, Date>,
  ): PlannedInput {
    return {
      ...templatedChannel(c.channel ?? undefined, template, template.messageType), // channels (issue 25)
      tenantId: c.tenantId,
      createdBy: c.createdBy,
      campaignId: c.id,
      messageType: template.messageType,
      transactional: isTransactional(template.messageType, template.transactional),
      templateId: template.templateId,
      exact: template.exact,
      // The campaign's own validity wins over its template's.
      validitySeconds: c.validitySeconds ?? template.validitySeconds,
      messages: planned.flatMap((pl) =>
        pl.kind === 'send'
          ? [
              {
                recipientUserId: pl.userId,
                phoneNumber: pl.phoneNumber,
                timezone: pl.timezone,
                language: pl.language,
                body: pl.text,
                unsendable: pl.unsendable,
                variant: pl.variant,
                scheduledAt: sendTimes?.get(pl.userId) ?? null,
              },
            ]
          : [],
      ),
    };
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
      await m.query('SELECT pg_advisory_xact_lock($1, $2)', [TenantLock.CampaignExecute, tenantId]);
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
          { rule: 'campaign_daily_limit', limit, used, requested: recipients, retry_after_seconds: retry },
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
   * The snapshot job: pages of recipients by user_id from the last committed cursor. Each page is
   * planned (rendered, or skipped: inactive, missing variables) and handed to the accept path's
   * batch entry, the one `/send-bulk` uses, in one transaction with its skips and the cursor (the
   * campaign row share-locked, so a cancel waits for it and then sees its rows). The accept path
   * refuses what its policies refuse (listed as skips by reason) and queues the page's messages
   * after commit. A crash anywhere resumes at the cursor: no recipient twice, none left out.
   */
  async snapshot(id: string): Promise<void> {
    const [row]: CampaignRow[] = await this.ds.query('SELECT * FROM sms_campaigns WHERE id = $1', [id]);
    if (!row) return;
    const c = toCampaign(row);
    if (c.status !== 'running' || c.snapshotDone) return;
    const template = await this.templates.get(c.tenantId, c.templateId);
    let after = c.snapshotCursor ?? undefined;
    for (let pageIndex = 0; ; pageIndex++) {
      const page = await this.page(c.tenantId, c.filters, after);
      const planned = await this.plan(c.tenantId, template, c.variables, page);
      const last = page.length ? page[page.length - 1].userId : after;
      // The window starts when the campaign did: a resumed snapshot plans the same times.
      const window = optimalWindow(c.sendAt, c.optimalWindowHours, c.startedAt ?? this.clock.now());
      const times = window ? await this.sendTimes.plan(c.tenantId, planned, window) : undefined;
      const outcome = await this.accepting.acceptPlanned(this.planned(c, template, planned, times), {
        before: async (m) => {
          const [lock] = await m.query('SELECT status FROM sms_campaigns WHERE id = $1 FOR SHARE', [id]);
          return lock?.status === 'running';
        },
        after: async (m, accepted) => {
          const skips = [
            ...planned.flatMap((pl) =>
              pl.kind === 'skip' ? [{ userId: pl.userId, reason: pl.reason }] : [],
            ),
            ...accepted.rejected.map((r) => ({ userId: r.recipientUserId, reason: r.reason })),
          ];
          await this.insertSkips(m, id, skips);
          await m.query(
            `UPDATE sms_campaigns SET snapshot_cursor = $2, snapshot_done = $3, updated_at = $4 WHERE id = $1`,
            [id, last ?? null, page.length < this.snapshotPageSize, this.clock.now()],
          );
        },
      });
      if (outcome === null) return; // canceled meanwhile
      await this.afterPage(id, pageIndex);
      if (page.length < this.snapshotPageSize) return;
      after = last;
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
      await this.ledger.cancelWaiting(m, tenantId, id, now);
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

  /** Counts by status and skip reason, costs and progress. A read: completion is the campaign job's (`tick`). */
  async status(tenantId: number, id: string): Promise<CampaignStatusView> {
    const campaign = await this.get(tenantId, id);
    const progress = await this.ledger.progress(tenantId, id);
    const skipRows: { reason: string; n: number }[] = await this.ds.query(
      'SELECT reason, count(*)::int AS n FROM sms_campaign_skips WHERE campaign_id = $1 GROUP BY reason',
      [id],
    );
    const skipped = zeroSkips();
    let skippedTotal = 0;
    for (const s of skipRows) {
      skipped[s.reason] = s.n;
      skippedTotal += s.n;
    }
    const total = campaign.snapshotDone
      ? progress.messages + skippedTotal
      : Math.max(campaign.totalRecipients, progress.messages + skippedTotal);
    return {
      campaign,
      counts: progress.counts,
      skipped,
      estimatedCost: progress.estimatedCost,
      actualCost: progress.actualCost,
      currency: this.config.get('SMS_CURRENCY'),
      progress:
        total === 0
          ? campaign.snapshotDone
            ? 1
            : 0
          : Math.round(((progress.final + skippedTotal) / total) * 10_000) / 10_000,
    };
  }

  /**
   * Running campaigns whose snapshot is done and whose every message is final become `completed`,
   * and `campaign.completed` is published in the same transaction: the conditional UPDATE lets one
   * caller win, so the event exists once. Returns their ids.
   */
  async completeFinished(): Promise<string[]> {
    const running: { id: string; tenant_id: number }[] = await this.ds.query(
      `SELECT id, tenant_id FROM sms_campaigns WHERE status = 'running' AND snapshot_done LIMIT 500`,
    );
    const completed: string[] = [];
    for (const r of running) {
      const progress = await this.ledger.progress(r.tenant_id, r.id);
      if (progress.final !== progress.messages) continue;
      const now = this.clock.now();
      const done = await this.ds.transaction(async (m) => {
        const [row] = updatedRows<CampaignRow>(
          await m.query(
            `UPDATE sms_campaigns SET status = 'completed', completed_at = $2, updated_at = $2,
                    total_recipients = $3 + (SELECT count(*) FROM sms_campaign_skips WHERE campaign_id = $1)
              WHERE id = $1 AND status = 'running' RETURNING *`,
            [r.id, now, progress.messages],
          ),
        );
        if (!row) return false;
        const c = toCampaign(row);
        await this.callbacks.publish(
          {
            tenantId: c.tenantId,
            type: 'campaign.completed',
            key: c.id,
            data: { campaign_id: c.id, name: c.name, total_recipients: c.totalRecipients },
          },
          m,
        );
        return true;
      });
      if (done) completed.push(r.id);
    }
    return completed;
  }

  /**
   * The campaign job: scheduled campaigns due now start; running ones whose snapshot job was lost
   * are re-added; finished ones complete.
   */
  async tick(): Promise<{ started: string[]; resumed: string[]; completed: string[] }> {
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
    const completed = await this.completeFinished();
    return { started, resumed: stale.map((s) => s.id), completed };
  }
}

/** TypeORM answers UPDATE … RETURNING with [rows, affected]. */
function updatedRows<T>(result: unknown): T[] {
  const r = result as [T[], number];
  return Array.isArray(r[0]) ? r[0] : (result as T[]);
}

function notFound(id: string): NotFoundError {
  const message = `campaign not found: ${id}`;
  return new NotFoundError(message, [{ errors: [message], campaign_id: id }]);
}

function auditView(c: Campaign) {
  return {
    name: c.name,
    template_id: c.templateId,
    status: c.status,
    recipient_filters: c.filters,
    scheduled_for: c.scheduledFor?.toISOString() ?? null,
    validity_seconds: c.validitySeconds,
    send_at: c.sendAt,
    optimal_window_hours: c.optimalWindowHours,
    channel: c.channel,
  };
}

/** An optimal campaign's window from `start`; null when it sends now. */
function optimalWindow(sendAt: SendAt, hours: number | null, start: Date): { start: Date; end: Date } | null {
  if (sendAt !== 'optimal') return null;
  const h = hours ?? DEFAULT_OPTIMAL_WINDOW_HOURS;
  return { start, end: new Date(start.getTime() + h * 3_600_000) };
}
