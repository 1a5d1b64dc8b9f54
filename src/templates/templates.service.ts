import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ConflictError, ForbiddenError, NotFoundError, ValidationFailedError } from '../common/errors';
import { analyzeText, TextAnalysis } from '../messaging/encoding';
import { Language, MessageType } from '../messaging/message-types';
import { TenantsService } from '../tenancy/tenants.service';
import {
  compareDeclaredVariables,
  MAX_VARIABLE_LENGTH,
  renderTemplate,
  sanitizeVariableValue,
} from './render';
import { SmsTemplateEntity } from './template.entity';

export interface TemplateInput {
  templateId: string;
  name: string;
  messageType: MessageType;
  content: Record<string, string>;
  variables: string[];
}

export interface Rendered {
  template: SmsTemplateEntity;
  text: string;
  languageUsed: string;
  missing: string[];
  analysis: TextAnalysis;
}

export class TemplateNotFoundError extends NotFoundError {
  constructor(templateId: string, tenantId: number) {
    super(
      `template not found: "${templateId}" is not an active template of tenant ${tenantId} or a default`,
      {
        template_id: templateId,
        tenant_id: tenantId,
      },
    );
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
    @InjectDataSource() ds: DataSource,
    private readonly tenants: TenantsService,
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

  private own(tenantId: number, templateId: string): Promise<SmsTemplateEntity | null> {
    return this.repo.findOneBy({ tenantId, templateId });
  }

  private checkDeclarations(content: Record<string, string>, variables: string[]): void {
    const problems = compareDeclaredVariables(variables, content);
    if (problems.length === 0) return;
    const message = problems
      .map((p) =>
        [
          p.undeclared.length ? `content_${p.language} uses undeclared ${p.undeclared.join(', ')}` : '',
          p.unused.length ? `content_${p.language} does not use declared ${p.unused.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
      )
      .join('; ');
    throw new ValidationFailedError(
      message,
      problems.map((p) => ({
        field: `content_${p.language}`,
        errors: [message],
        undeclared: p.undeclared,
        unused: p.unused,
      })),
    );
  }

  async create(tenantId: number, input: TemplateInput): Promise<SmsTemplateEntity> {
    this.checkDeclarations(input.content, input.variables);
    await this.tenants.ensure(tenantId);
    const existing = await this.own(tenantId, input.templateId);
    if (existing?.isActive)
      throw new ConflictError(`template "${input.templateId}" already exists; use PUT or PATCH to change it`);
    if (existing) {
      // Re-creating a deleted template revives its row with the next version.
      Object.assign(existing, {
        ...input,
        isActive: true,
        version: existing.version + 1,
        updatedAt: new Date(),
      });
      return this.repo.save(existing);
    }
    const now = new Date();
    return this.repo.save(
      this.repo.create({ ...input, tenantId, isActive: true, version: 1, createdAt: now, updatedAt: now }),
    );
  }

  /** PUT and PATCH: only a tenant's own template changes; a default is read-only. */
  async update(
    tenantId: number,
    templateId: string,
    patch: Partial<Omit<TemplateInput, 'templateId'>>,
  ): Promise<SmsTemplateEntity> {
    const row = await this.own(tenantId, templateId);
    if (!row || !row.isActive) {
      await this.refuseDefault(tenantId, templateId, 'changed');
      throw new TemplateNotFoundError(templateId, tenantId);
    }
    const content = patch.content ? { ...row.content, ...patch.content } : row.content;
    const variables = patch.variables ?? row.variables;
    this.checkDeclarations(content, variables);
    Object.assign(row, {
      name: patch.name ?? row.name,
      messageType: patch.messageType ?? row.messageType,
      content,
      variables,
      version: row.version + 1,
      updatedAt: new Date(),
    });
    return this.repo.save(row);
  }

  /** Deactivates a tenant's template (the default with that id, if any, shows again). */
  async deactivate(tenantId: number, templateId: string): Promise<void> {
    const row = await this.own(tenantId, templateId);
    if (!row || !row.isActive) {
      await this.refuseDefault(tenantId, templateId, 'deleted');
      throw new TemplateNotFoundError(templateId, tenantId);
    }
    await this.repo.update(
      { id: row.id },
      { isActive: false, version: row.version + 1, updatedAt: new Date() },
    );
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
    const wanted = requested ?? (await this.tenants.ensure(tenantId)).settings.default_language ?? 'en';
    return template.content[wanted] ? wanted : 'en';
  }

  /** Preview: renders what it can and lists what is missing. */
  async preview(
    tenantId: number,
    templateId: string,
    variables: Record<string, unknown>,
    language?: Language,
  ): Promise<Rendered> {
    const template = await this.get(tenantId, templateId);
    const languageUsed = await this.resolveLanguage(tenantId, template, language);
    const { text, missing } = renderTemplate(template.content[languageUsed], variables);
    return { template, text, languageUsed, missing, analysis: analyzeText(text) };
  }

  /** For a send: every declared variable present, no unknown ones, each value plain text ≤ 200 chars. */
  async renderForSend(
    tenantId: number,
    templateId: string,
    variables: Record<string, unknown>,
    language?: Language,
  ): Promise<Rendered> {
    const template = await this.get(tenantId, templateId);
    const declared = new Set(template.variables);
    const unknown = Object.keys(variables).filter((k) => !declared.has(k));
    const missing = template.variables.filter((v) => !Object.prototype.hasOwnProperty.call(variables, v));
    const details: { field: string; errors: string[]; missing?: string[]; unknown?: string[] }[] = [];
    if (missing.length)
      details.push({ field: 'variables', errors: [`missing variables: ${missing.join(', ')}`], missing });
    if (unknown.length)
      details.push({ field: 'variables', errors: [`unknown variables: ${unknown.join(', ')}`], unknown });
    for (const [name, value] of Object.entries(variables)) {
      if (value !== null && typeof value === 'object') {
        details.push({ field: `variables.${name}`, errors: [`variables.${name} must be text or a number`] });
      } else if (sanitizeVariableValue(value).length > MAX_VARIABLE_LENGTH) {
        details.push({
          field: `variables.${name}`,
          errors: [`variables.${name} is longer than ${MAX_VARIABLE_LENGTH} characters`],
        });
      }
    }
    if (details.length) {
      throw new ValidationFailedError(details.map((d) => d.errors.join(', ')).join('; '), details);
    }
    const languageUsed = await this.resolveLanguage(tenantId, template, language);
    const { text } = renderTemplate(template.content[languageUsed], variables);
    return { template, text, languageUsed, missing: [], analysis: analyzeText(text) };
  }
}
