import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { isSuperAdmin, Principal, ROLE_ADMIN } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ForbiddenError } from '../common/errors';
import {
  AuditEntryDto,
  AuditPageDto,
  AuditQueryDto,
  checkDateRange,
  decodeAuditCursor,
  encodeAuditCursor,
  toAuditEntry,
} from './audit.dto';
import { AuditService } from './audit.service';

@ApiTags('audit')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'Administrative changes, newest first',
    description:
      "A tenant admin sees its tenant's entries; a super_admin sees every tenant's (tenant_id narrows). Plain users get 403.",
  })
  @ApiOkResponse({ type: AuditPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: AuditQueryDto): Promise<AuditPageDto> {
    checkDateRange('from', q.from);
    checkDateRange('to', q.to);
    const limit = q.limit ?? 50;
    const rows = await this.audit.list({
      tenantId: this.scope(p, q.tenant_id),
      action: q.action,
      actor: q.actor,
      targetType: q.target_type,
      targetId: q.target_id,
      from: q.from,
      to: q.to,
      before: q.cursor ? decodeAuditCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(toAuditEntry),
      next_cursor: rows.length > limit ? encodeAuditCursor(page[page.length - 1]) : null,
    };
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Get one audit entry',
    description: 'One administrative change with its before and after values (admins).',
  })
  @ApiOkResponse({ type: AuditEntryDto })
  async get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<AuditEntryDto> {
    return toAuditEntry(await this.audit.get(id, isSuperAdmin(p) ? undefined : p.tenantId));
  }

  /** Which tenant's entries the caller may read: its own, or for a super_admin any (or the one asked for). */
  private scope(p: Principal, asked: number | undefined): number | undefined {
    if (isSuperAdmin(p)) return asked;
    if (asked !== undefined && asked !== p.tenantId)
      throw new ForbiddenError("only a super_admin may read another tenant's audit log");
    return p.tenantId;
  }
}
