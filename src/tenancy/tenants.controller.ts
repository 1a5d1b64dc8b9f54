import { Body, Controller, Get, Param, ParseIntPipe, Patch, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { AuditService } from '../audit';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { isSuperAdmin, Principal, ROLE_ADMIN, ROLE_SUPER_ADMIN } from '../auth/principal';
import { NotFoundError } from '../common/errors';
import {
  CreateTenantDto,
  TenantResponseDto,
  TenantSendersDto,
  toTenantResponse,
  UpdateTenantDto,
} from './tenants.dto';
import { TenantEntity } from './tenant.entity';
import { TenantPatch, TenantsService } from './tenants.service';

@ApiTags('tenants')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_SUPER_ADMIN)
@Controller('api/sms/tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List tenants', description: 'super_admin only.' })
  @ApiOkResponse({ type: TenantResponseDto, isArray: true })
  async list(): Promise<TenantResponseDto[]> {
    return (await this.tenants.list()).map(toTenantResponse);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Get a tenant',
    description:
      'super_admin only. Settings: rate limits, default language, allowed countries, cost alert threshold.',
  })
  @ApiOkResponse({ type: TenantResponseDto })
  async get(@Param('id', ParseIntPipe) id: number): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.get(id));
  }

  /** Audited (`tenant.create`) right after the insert succeeded. */
  @Post()
  @ApiOperation({ summary: 'Create a tenant', description: 'super_admin only; 409 when the id exists.' })
  @ApiCreatedResponse({ type: TenantResponseDto })
  async create(@CurrentPrincipal() p: Principal, @Body() dto: CreateTenantDto): Promise<TenantResponseDto> {
    const created = await this.tenants.create(dto.id, dto.name, dto.settings);
    await this.audit.record(p, 'tenant.create', tenantTarget(created), null, auditView(created));
    return toTenantResponse(created);
  }

  /** Name, active and settings; audited (`tenant.update`) right after the update succeeded. */
  @Patch(':id')
  @ApiOperation({
    summary: 'Change a tenant',
    description:
      "super_admin only: name, active (a deactivated tenant's requests answer 403 and its queued messages are not sent) and settings.",
  })
  @ApiOkResponse({ type: TenantResponseDto })
  async update(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: UpdateTenantDto,
  ): Promise<TenantResponseDto> {
    return toTenantResponse(await this.updateAudited(p, id, dto));
  }

  @Get(':id/senders')
  @Roles(ROLE_ADMIN)
  @ApiOperation({
    summary: "A tenant's sender identities",
    description:
      'An admin of the tenant, or super_admin. Who messages come from, per destination country (see PUT). Another tenant: 404.',
  })
  @ApiOkResponse({ type: TenantSendersDto })
  async senders(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseIntPipe) id: number,
  ): Promise<TenantSendersDto> {
    return { senders: (await this.tenants.get(ownTenant(p, id))).settings.senders ?? null };
  }

  /** The `senders` setting alone, for the tenant's own admins; audited (`tenant.update`) as PATCH is. */
  @Put(':id/senders')
  @Roles(ROLE_ADMIN)
  @ApiOperation({
    summary: "Set a tenant's sender identities",
    description:
      'An admin of the tenant, or super_admin. Replaces the whole map: destination country (upper-case ISO 3166 alpha-2, "*" for every other country) → {"alphanumeric"} (1-11 of A-Z a-z 0-9 and space, at least one letter; refused for countries that do not carry alphanumeric senders: US, CA, CN), {"number"} (E.164) or {"messaging_service_sid"} (MG + 32 hex). null removes every sender (the provider\'s configured default). Applies to messages accepted from now on. Another tenant: 404.',
  })
  @ApiOkResponse({ type: TenantSendersDto })
  async setSenders(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: TenantSendersDto,
  ): Promise<TenantSendersDto> {
    const updated = await this.updateAudited(p, ownTenant(p, id), { settings: { senders: dto.senders } });
    return { senders: updated.settings.senders ?? null };
  }

  /** Changes the tenant and records `tenant.update` with the settings before and after. */
  private async updateAudited(p: Principal, id: number, patch: TenantPatch): Promise<TenantEntity> {
    const before = auditView(await this.tenants.get(id));
    const updated = await this.tenants.update(id, patch);
    await this.audit.record(p, 'tenant.update', tenantTarget(updated), before, auditView(updated));
    return updated;
  }
}

/** The tenant an admin may manage: its own; a super_admin any. Another tenant's id answers 404. */
function ownTenant(p: Principal, id: number): number {
  if (!isSuperAdmin(p) && p.tenantId !== id) throw new NotFoundError(`tenant ${id} not found`);
  return id;
}

/** A tenant's entries belong to that tenant: its admins see who changed its settings. */
const tenantTarget = (t: TenantEntity) => ({ type: 'tenant', id: t.id, tenantId: t.id });
const auditView = (t: TenantEntity) => ({ id: t.id, name: t.name, active: t.active, settings: t.settings });
