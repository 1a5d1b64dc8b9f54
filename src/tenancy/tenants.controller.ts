import { Body, Controller, Get, Param, ParseIntPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { AuditService } from '../audit';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { Principal, ROLE_SUPER_ADMIN } from '../auth/principal';
import { CreateTenantDto, TenantResponseDto, toTenantResponse, UpdateTenantDto } from './tenants.dto';
import { TenantEntity } from './tenant.entity';
import { TenantsService } from './tenants.service';

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
    const before = auditView(await this.tenants.get(id));
    const updated = await this.tenants.update(id, dto);
    await this.audit.record(p, 'tenant.update', tenantTarget(updated), before, auditView(updated));
    return toTenantResponse(updated);
  }
}

/** A tenant's entries belong to that tenant: its admins see who changed its settings. */
const tenantTarget = (t: TenantEntity) => ({ type: 'tenant', id: t.id, tenantId: t.id });
const auditView = (t: TenantEntity) => ({ id: t.id, name: t.name, active: t.active, settings: t.settings });
