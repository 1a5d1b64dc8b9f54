import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, QueryFailedError, Repository } from 'typeorm';
import { AuditService } from '../audit';
import { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { ConflictError, ForbiddenError, NotFoundError, ValidationFailedError } from '../common/errors';
import { analyzeText, TextAnalysis } from '../core/encoding';
import { smartEncode, smartEncodingMode, SmartEncodingReport } from '../core/smart-encoding';
import type { Channel } from '../core/channels';
import { CODE_MESSAGE_TYPES, Language, MessageType } from '../core/message-types';
import { compareVariants, Significance } from '../core/significance';
import { ExperimentLedger, VariantCounts } from '../messaging';
import { TenantsService } from '../tenancy';
import { compareDeclaredVariables, renderTemplate } from './render';
import {
  chooseLanguage,
  codeTemplateProblems,
  declarationError,
  sendVariableProblems,
} from './template-rules';
import { SmsTemplateEntity } from './template.entity';
import { splitChanged, TemplateVariant, variantFor, variantProblems } from './variant-rules';

export interface TemplateInput {
  templateId: string;
  name: string;
  messageType: MessageType;
  /** Custom types only: send as transactional SMS (default false: promotional). */
  transactional?: boolean;
  /** Sent exactly as written, never changed by smart encoding (default false). */
  exact?: boolean;
  content: Record<string, string>;
  variables: string[];
  /** Seconds of validity its messages get unless a send gives its own; null: none; absent: unchanged (update) or none (create). */
  validitySeconds?: number | null;
  /** A/B variants (issue 25): a list starts or changes the test, null ends it; absent: unchanged (update) or none (create). */
  variants?: TemplateVariant[] | null;
  /** channels (issue 25): its sends' channel (absent: unchanged, or sms); whatsapp: the approved Content SID. */
  channel?: Channel;
  contentSid?: string | null;
}

export interface Rendered {
  template: SmsTemplateEntity;
  /** A preview's: as it would be sent, after smart encoding; a send's: as rendered (accept encodes it). */
  text: string;
  languageUsed: string;
  missing: string[];
  /** Of `text`. */
  analysis: TextAnalysis;
  /** The A/B variant rendered (null: the template's own content). */
  variant?: string | null;
  /** A preview's: what smart encoding changed (null: nothing). */
  smartEncoding?: SmartEncodingReport | null;
}

export class TemplateNotFoundError extends NotFoundError {
  constructor(templateId: string, tenantId: number) {
    const message = `template not found: "${templateId}" is not an active template of tenant ${tenantId} or a default`;
    super(message, [
      { field: 'template_id', errors: [message], template_id: templateId, tenant_id: tenantId },
    ]);
  }
}

/**
 * Templates of a tenant: the built-in defaults (tenant_id NULL) plus its own, where its own
 * shadows a default with the same id. Every method takes the tenant id.
 */
@Injectable()
export class TemplatesService {
  private readonly repo: Repository<SmsTemplateEntity>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly tenants: TenantsService,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly experiments: ExperimentLedger,
    private readonly config: AppConfig,
  ) {
    this.repo = ds.getRepository(SmsTemplateEntity);
  }

  /** What the tenant sees: its rows, and the defaults it has no active row for. */
  async list(
    tenantId: number,
    opts: { messageType?: MessageType; includeInactive?: boolean } = {},
  ): Promise<SmsTemplateEntity[]> {
    const q = this.repo
      .createQueryBuilder('t')
      .where('(t.tenant_id = :tenantId OR t.tenant_id IS NULL)', { tenantId })
      .orderBy('t.template_id')
      .addOrderBy('t.tenant_id', 'ASC', 'NULLS LAST');
    if (opts.messageType) q.andWhere('t.message_type = :type', { type: opts.messageType });
    const rows = await q.getMany();
    const out = new Map<string, SmsTemplateEntity>();
    for (const r of rows) {
      const seen = out.get(r.templateId);
      // The tenant's row comes first; an inactive one hides the default only when listing inactive rows.
      if (seen && (seen.isActive || opts.includeInactive)) continue;
      if (!r.isActive && !opts.includeInactive) continue;
      out.set(r.templateId, r);
    }
    return [...out.values()];
  }

  /** The active template a send or preview uses, or 404 naming the id and the tenant. */
  async get(tenantId: number, templateId: string): Promise<SmsTemplateEntity> {
    const rows = await this.repo
      .createQueryBuilder('t')
      .where(
        't.template_id = :templateId AND (t.tenant_id = :tenantId OR t.tenant_id IS NULL) AND t.is_active',
        {
          templateId,
          tenantId,
        },
      )
      .orderBy('t.tenant_id', 'ASC', 'NULLS LAST')
      .getMany();
    if (rows.length === 0) throw new TemplateNotFoundError(templateId, tenantId);
    return rows[0];
  }

  /** The tenant's own row, locked until the transaction ends. */
  private own(
    tenantId: number,
    templateId: string,
    manager: EntityManager,
  ): Promise<SmsTemplateEntity | null> {
    return manager
      .getRepository(SmsTemplateEntity)
      .createQueryBuilder('t')
      .setLock('pessimistic_write')
      .where('t.tenant_id = :tenantId AND t.template_id = :templateId', { tenantId, templateId })
      .getOne();
  }

  /** 400 unless every language uses exactly the declared variables (and code templates keep their shape). */
  private checkDeclarations(
    templateId: string,
    input: Pick<TemplateInput, 'content' | 'variables' | 'messageType' | 'variants' | 'channel'>,
  ): void {
    // channels (issue 25): a code template is sent by SMS; a code goes by WhatsApp only when its
    // send asks (`channel` on /verification/send, which also fills the WhatsApp template's variable).
    if (input.channel && input.channel !== 'sms' && CODE_MESSAGE_TYPES.includes(input.messageType))
      throw ValidationFailedError.field(
        'channel',
        `${input.messageType} templates are sent by SMS; send a code by WhatsApp with channel on /api/sms/verification/send`,
      );
    const declared = declarationError(compareDeclaredVariables(input.variables, input.content));
    if (declared) throw new ValidationFailedError(declared.message, declared.details);
    const code = codeTemplateProblems(templateId, input.messageType, input.variables);
    if (code.length) throw new ValidationFailedError(code.flatMap((p) => p.errors).join('; '), code);
    const variants = input.variants ? variantProblems(input.variants, input) : [];
    if (variants.length)
      throw new ValidationFailedError(variants.flatMap((p) => p.errors).join('; '), variants);
  }

  /** The test columns after a change of variants: a new split (other keys or weights) is a new test. */
  private testAfter(
    before: Pick<SmsTemplateEntity, 'variants' | 'variantTestId' | 'variantsStartedAt'> | null,
    variants: TemplateVariant[] | null,
    now: Date,
  ): Pick<SmsTemplateEntity, 'variants' | 'variantTestId' | 'variantsStartedAt'> {
    if (variants === null)
      return { variants: null, variantTestId: before?.variantTestId ?? null, variantsStartedAt: null };
    if (before?.variants && before.variantTestId && !splitChanged(before.variants, variants))
      return { variants, variantTestId: before.variantTestId, variantsStartedAt: before.variantsStartedAt };
    return { variants, variantTestId: randomUUID(), variantsStartedAt: now };
  }

  /** Audited as `template.create` in the same transaction. */
  async create(tenantId: number, input: TemplateInput, actor: Principal): Promise<SmsTemplateEntity> {
    this.checkDeclarations(input.templateId, input);
    await this.tenants.ensure(tenantId);
    const now = this.clock.now();
    try {
      return await this.ds.transaction(async (m) => {
        const existing = await this.own(tenantId, input.templateId, m);
        if (existing?.isActive) throw this.exists(input.templateId);
        const repo = m.getRepository(SmsTemplateEntity);
        const before = existing ? auditView(existing) : null;
        const saved = existing
          ? // Re-creating a deleted template revives its row with the next version.
            await repo.save(
              Object.assign(existing, {
                ...input,
                transactional: input.transactional ?? false,
                exact: input.exact ?? false,
                validitySeconds: input.validitySeconds ?? null,
                ...this.testAfter(null, input.variants ?? null, now),
                channel: input.channel ?? 'sms',
                contentSid: input.contentSid ?? null,
                isActive: true,
                version: existing.version + 1,
                updatedAt: now,
              }),
            )
          : await repo.save(
              repo.create({
                ...input,
                transactional: input.transactional ?? false,
                exact: input.exact ?? false,
                validitySeconds: input.validitySeconds ?? null,
                ...this.testAfter(null, input.variants ?? null, now),
                channel: input.channel ?? 'sms',
                contentSid: input.contentSid ?? null,
                tenantId,
                isActive: true,
                version: 1,
                createdAt: now,
                updatedAt: now,
              }),
            );
        await this.audit.record(actor, 'template.create', this.target(saved), before, auditView(saved), m);
        return saved;
      });
    } catch (e) {
      // Two concurrent creates of a new id: the unique index lets one in.
      if (e instanceof QueryFailedError && (e.driverError as { code?: string }).code === '23505')
        throw this.exists(input.templateId);
      throw e;
    }
  }

  private exists(templateId: string): ConflictError {
    return new ConflictError(`template "${templateId}" already exists; use PUT or PATCH to change it`);
  }

  /** PUT and PATCH: only a tenant's own template changes (row-locked, so no update is lost); a default is read-only. */
  async update(
    tenantId: number,
    templateId: string,
    patch: Partial<Omit<TemplateInput, 'templateId'>>,
    actor: Principal,
  ): Promise<SmsTemplateEntity> {
    const updated = await this.ds.transaction(async (m) => {
      const row = await this.own(tenantId, templateId, m);
      if (!row || !row.isActive) return null;
      const next = {
        content: patch.content ? { ...row.content, ...patch.content } : row.content,
        variables: patch.variables ?? row.variables,
        messageType: patch.messageType ?? row.messageType,
        transactional: patch.transactional ?? row.transactional,
        exact: patch.exact ?? row.exact,
        validitySeconds: patch.validitySeconds === undefined ? row.validitySeconds : patch.validitySeconds,
        variants: patch.variants === undefined ? row.variants : patch.variants,
        channel: patch.channel ?? row.channel,
        contentSid: patch.contentSid === undefined ? row.contentSid : patch.contentSid,
      };
      this.checkDeclarations(templateId, next);
      const before = auditView(row);
      const now = this.clock.now();
      Object.assign(row, next, this.testAfter(row, next.variants, now), {
        name: patch.name ?? row.name,
        version: row.version + 1,
        updatedAt: now,
      });
      const saved = await m.getRepository(SmsTemplateEntity).save(row);
      await this.audit.record(actor, 'template.update', this.target(saved), before, auditView(saved), m);
      return saved;
    });
    if (updated) return updated;
    await this.refuseDefault(tenantId, templateId, 'changed');
    throw new TemplateNotFoundError(templateId, tenantId);
  }

  /** Deactivates a tenant's template (the default with that id, if any, shows again); audited as `template.delete`. */
  async deactivate(tenantId: number, templateId: string, actor: Principal): Promise<void> {
    const done = await this.ds.transaction(async (m) => {
      const row = await this.own(tenantId, templateId, m);
      if (!row || !row.isActive) return false;
      const before = auditView(row);
      Object.assign(row, { isActive: false, version: row.version + 1, updatedAt: this.clock.now() });
      const saved = await m.getRepository(SmsTemplateEntity).save(row);
      await this.audit.record(actor, 'template.delete', this.target(saved), before, auditView(saved), m);
      return true;
    });
    if (done) return;
    await this.refuseDefault(tenantId, templateId, 'deleted');
    throw new TemplateNotFoundError(templateId, tenantId);
  }

  private target(row: SmsTemplateEntity) {
    return { type: 'template', id: row.templateId, tenantId: row.tenantId ?? undefined };
  }

  private async refuseDefault(tenantId: number, templateId: string, verb: string): Promise<void> {
    const isDefault = await this.repo
      .createQueryBuilder('t')
      .where('t.tenant_id IS NULL AND t.template_id = :templateId', { templateId })
      .getExists();
    if (isDefault) {
      throw new ForbiddenError(
        `"${templateId}" is a built-in default and cannot be ${verb}; create a template with the same template_id to override it for tenant ${tenantId}`,
      );
    }
  }

  /** Requested language → tenant default → en; a template without that language falls back to en. */
  async resolveLanguage(
    tenantId: number,
    template: SmsTemplateEntity,
    requested?: Language,
  ): Promise<string> {
    const tenantDefault = requested
      ? undefined
      : (await this.tenants.ensure(tenantId)).settings.default_language;
    return chooseLanguage(template.content, requested, tenantDefault);
  }

  /** The tenant's `smart_encoding` setting as stored (unset: the default applies). */
  async smartEncodingSetting(tenantId: number): Promise<unknown> {
    // No tenant (a keyword reply to a number no tenant has texted): the default, and no tenant row.
    if (tenantId <= 0) return undefined;
    return (await this.tenants.ensure(tenantId)).settings.smart_encoding;
  }

  /**
   * Preview: renders what it can, lists what is missing, and gives the text as it would be sent:
   * after the tenant's smart encoding (never a code type's or an exact template's).
   */
  async preview(
    tenantId: number,
    templateId: string,
    variables: Record<string, unknown>,
    language?: Language,
    variantKey?: string,
  ): Promise<Rendered> {
    const template = await this.get(tenantId, templateId);
    const languageUsed = await this.resolveLanguage(tenantId, template, language);
    let content = template.content;
    if (variantKey !== undefined) {
      const variant = template.variants?.find((v) => v.key === variantKey);
      if (!variant)
        throw ValidationFailedError.field(
          'variant',
          `variant "${variantKey}" is not a running variant of "${templateId}"`,
        );
      content = variant.content;
    }
    const { text, missing } = renderTemplate(
      content[languageUsed] ?? template.content[languageUsed],
      variables,
    );
    const mode = smartEncodingMode(await this.smartEncodingSetting(tenantId), template);
    const sent = smartEncode(text, mode);
    return {
      template,
      text: sent.text,
      languageUsed,
      missing,
      analysis: sent.analysis,
      smartEncoding: sent.report,
    };
  }

  /** For a send: every declared variable present, no unknown ones, each value plain text ≤ 200 chars. */
  async renderForSend(
    tenantId: number,
    templateId: string,
    variables: Record<string, unknown>,
    language?: Language,
    phoneNumber?: string | null,
  ): Promise<Rendered> {
    const template = await this.get(tenantId, templateId);
    const problems = sendVariableProblems(template.variables, variables);
    if (problems.length)
      throw new ValidationFailedError(problems.map((p) => p.errors.join(', ')).join('; '), problems);
    const languageUsed = await this.resolveLanguage(tenantId, template, language);
    // A running A/B test: the recipient's variant, by the stable hash of their E.164 number.
    const variant = phoneNumber ? runningVariant(template, phoneNumber) : null;
    const content = variant?.content ?? template.content;
    const { text } = renderTemplate(content[languageUsed] ?? template.content[languageUsed], variables);
    return {
      template,
      text,
      languageUsed,
      missing: [],
      analysis: analyzeText(text),
      variant: variant?.key ?? null,
    };
  }

  /**
   * Ends the template's A/B test by promoting one variant: its texts become the template's, the
   * variants are cleared (`version` + 1), audited as `template.promote_variant`. 404 for another
   * tenant's or an unknown template, or a variant the running test does not have.
   */
  async promoteVariant(
    tenantId: number,
    templateId: string,
    key: string,
    actor: Principal,
  ): Promise<SmsTemplateEntity> {
    const promoted = await this.ds.transaction(async (m) => {
      const row = await this.own(tenantId, templateId, m);
      if (!row || !row.isActive) return null;
      const variant = row.variants?.find((v) => v.key === key);
      if (!variant) {
        const message = `variant not found: template "${templateId}" has no running variant "${key}"`;
        throw new NotFoundError(message, [
          { field: 'variant', errors: [message], template_id: templateId, variant: key },
        ]);
      }
      const before = auditView(row);
      Object.assign(row, {
        content: { ...variant.content },
        variants: null,
        variantsStartedAt: null,
        version: row.version + 1,
        updatedAt: this.clock.now(),
      });
      const saved = await m.getRepository(SmsTemplateEntity).save(row);
      await this.audit.record(
        actor,
        'template.promote_variant',
        this.target(saved),
        before,
        { ...auditView(saved), promoted_variant: key },
        m,
      );
      return saved;
    });
    if (promoted) return promoted;
    throw new TemplateNotFoundError(templateId, tenantId);
  }

  /**
   * A running test's outcomes per variant since it began, and whether one wins: per outcome
   * (delivered; converted, from code conversions; clicked, a first click on a tracked link) the
   * leader tested against the runner-up (two-proportion z-test, p < 0.05, at least 100 messages each).
   */
  async variantStats(tenantId: number, templateId: string): Promise<VariantStats> {
    const t = await this.ownActive(tenantId, templateId);
    const counts =
      t.variants && t.variantsStartedAt
        ? await this.experiments.variantCounts(tenantId, templateId, t.variantsStartedAt)
        : [];
    const byKey = new Map(counts.map((c) => [c.variant, c]));
    const variants = (t.variants ?? []).map((v) => ({
      variant: v,
      counts: byKey.get(v.key) ?? emptyCounts(v.key),
    }));
    const test = (metric: 'delivered' | 'converted' | 'clicked') =>
      compareVariants(
        variants.map((v) => ({ key: v.variant.key, n: v.counts.messages, successes: v.counts[metric] })),
        { metric },
      );
    return {
      template: t,
      running: variants.length > 0,
      variants,
      delivered: test('delivered'),
      converted: test('converted'),
      clicked: test('clicked'),
    };
  }

  currency(): string {
    return this.config.get('SMS_CURRENCY');
  }

  /** The tenant's own active template with a running test, for its stats; else 404 (defaults never have one). */
  async ownActive(tenantId: number, templateId: string): Promise<SmsTemplateEntity> {
    const row = await this.repo.findOneBy({ tenantId, templateId, isActive: true });
    if (!row) throw new TemplateNotFoundError(templateId, tenantId);
    return row;
  }
}

export interface VariantStats {
  template: SmsTemplateEntity;
  /** A test is running (the template has variants). */
  running: boolean;
  variants: { variant: TemplateVariant; counts: VariantCounts }[];
  delivered: Significance;
  converted: Significance;
  clicked: Significance;
}

function emptyCounts(key: string): VariantCounts {
  return {
    variant: key,
    messages: 0,
    delivered: 0,
    clicked: 0,
    converted: 0,
    cost: null,
    estimatedCost: null,
  };
}

/** What the audit log keeps of a template. */
function auditView(t: SmsTemplateEntity) {
  return {
    template_id: t.templateId,
    name: t.name,
    message_type: t.messageType,
    transactional: t.transactional,
    exact: t.exact,
    content: t.content,
    variables: t.variables,
    validity_seconds: t.validitySeconds,
    variants: t.variants,
    variant_test_id: t.variantTestId,
    channel: t.channel,
    content_sid: t.contentSid,
    version: t.version,
    is_active: t.isActive,
  };
}

/** The variant of a running test this number gets, or null (no test). */
export function runningVariant(template: SmsTemplateEntity, phoneNumber: string): TemplateVariant | null {
  if (!template.variants?.length || !template.variantTestId) return null;
  return variantFor(
    {
      tenantId: template.tenantId,
      templateId: template.templateId,
      variants: template.variants,
      variantTestId: template.variantTestId,
    },
    phoneNumber,
  );
}
