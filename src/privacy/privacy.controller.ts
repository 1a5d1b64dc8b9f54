import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { isSuperAdmin, Principal, ROLE_ADMIN } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ForbiddenError, ValidationFailedError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { PhoneService } from '../phone';
import { TenantsService } from '../tenancy';
import {
  ErasureDto,
  ErasureRequestDto,
  ExportRequestDto,
  PrivacyRequestDto,
  PrivacySettingsDto,
  toPrivacyRequestDto,
} from './privacy.dto';
import { PrivacyService } from './privacy.service';

@ApiTags('privacy')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/privacy')
export class PrivacyController {
  constructor(
    private readonly privacy: PrivacyService,
    private readonly phone: PhoneService,
    private readonly tenants: TenantsService,
    private readonly config: AppConfig,
  ) {}

  @Get('settings')
  @ApiOperation({
    summary: "The tenant's body retention and promotional-consent rule (read-only)",
    description:
      "Admins (a super_admin: the tenant in X-Tenant-Id). The effective body retention in days and where it comes from (the tenant's body_retention_days, else SMS_BODY_RETENTION_DAYS), and promotional_consent (null: the default, Turkish numbers only). Changed through PATCH /api/sms/tenants/{id} (super_admin). See docs/privacy.md.",
  })
  @ApiOkResponse({ type: PrivacySettingsDto })
  async settings(@CurrentPrincipal() p: Principal): Promise<PrivacySettingsDto> {
    const settings = (await this.tenants.ensure(p.tenantId)).settings;
    const own = typeof settings.body_retention_days === 'number' ? settings.body_retention_days : null;
    return {
      body_retention_days: own ?? this.config.get('SMS_BODY_RETENTION_DAYS'),
      body_retention_source: own === null ? 'default' : 'tenant',
      promotional_consent: settings.promotional_consent ?? null,
    };
  }

  @Post('erasures')
  @ApiOperation({
    summary: 'Erase a phone number and its texts (cannot be undone)',
    description:
      'Admins (their tenant); a super_admin may add all_tenants: true. Requires confirm: "erase". Redacts the number and the bodies in messages and their events, inbound texts, the recipient directory, appointments, callback deliveries; deletes its verification codes; replaces its opt-out entry by a keyed hash, and adds one, so the number stays refused. Waiting messages to it are canceled. Counts and costs are untouched. The audit log keeps the request with the number\'s hash only. IRREVERSIBLE: nothing erased can be restored. Answers when done (about 2 s).',
  })
  @ApiOkResponse({ type: ErasureDto })
  @HttpCode(200)
  async erase(@CurrentPrincipal() p: Principal, @Body() dto: ErasureRequestDto): Promise<ErasureDto> {
    const allTenants = dto.all_tenants === true;
    if (allTenants && !isSuperAdmin(p)) throw new ForbiddenError('all_tenants is for super_admin only');
    const r = await this.privacy.erase(p, this.e164(dto.phone_number), allTenants);
    return { ...toPrivacyRequestDto(r), irreversible: true };
  }

  @Get('erasures')
  @ApiOperation({ summary: "The tenant's erasures, newest first", description: 'Admins. Never the number.' })
  @ApiOkResponse({ type: [PrivacyRequestDto] })
  async erasures(@CurrentPrincipal() p: Principal): Promise<PrivacyRequestDto[]> {
    return (await this.privacy.list(p.tenantId, 'erasure')).map(toPrivacyRequestDto);
  }

  @Post('exports')
  @ApiOperation({
    summary: 'Export everything held about a phone number (a job)',
    description:
      "Admins. Starts a job (202) that gathers the tenant's messages to the number with their events, its inbound texts, directory entry, appointments, opt-out and its history, and callback deliveries into one JSON file. Poll GET /api/sms/privacy/exports/{id}; download the file until expires_at (SMS_PRIVACY_EXPORT_TTL_SECONDS). Codes are never in it: code messages keep their redacted body.",
  })
  @ApiOkResponse({ type: PrivacyRequestDto })
  @HttpCode(202)
  async startExport(
    @CurrentPrincipal() p: Principal,
    @Body() dto: ExportRequestDto,
  ): Promise<PrivacyRequestDto> {
    return toPrivacyRequestDto(await this.privacy.startExport(p, this.e164(dto.phone_number)));
  }

  @Get('exports')
  @ApiOperation({ summary: "The tenant's exports, newest first", description: 'Admins. Never the number.' })
  @ApiOkResponse({ type: [PrivacyRequestDto] })
  async exports(@CurrentPrincipal() p: Principal): Promise<PrivacyRequestDto[]> {
    return (await this.privacy.list(p.tenantId, 'export')).map(toPrivacyRequestDto);
  }

  @Get('exports/:id')
  @ApiOperation({ summary: "An export's status and progress", description: "Admins. Another tenant's: 404." })
  @ApiOkResponse({ type: PrivacyRequestDto })
  async getExport(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<PrivacyRequestDto> {
    return toPrivacyRequestDto(await this.privacy.get(p.tenantId, 'export', id));
  }

  @Get('exports/:id/download')
  @ApiOperation({
    summary: "An export's file (JSON)",
    description: "Admins. 404 once it expired, before it is done, or for another tenant's.",
  })
  @ApiProduces('application/json')
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  async download(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<unknown> {
    const file = await this.privacy.download(p.tenantId, id);
    res.header('Content-Disposition', `attachment; filename="sms-privacy-export-${id}.json"`);
    res.header('Cache-Control', 'no-store');
    return file;
  }

  private e164(phoneNumber: string): string {
    const v = this.phone.forSend(phoneNumber);
    if (!v.valid)
      throw ValidationFailedError.field('phone_number', `phone_number is not valid (${v.reason})`);
    return v.e164;
  }
}
