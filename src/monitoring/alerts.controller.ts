import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { AuditService } from '../audit';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { isSuperAdmin, Principal, ROLE_ADMIN } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ForbiddenError } from '../common/errors';
import { alertPayload, AlertsService } from './alerts.service';

const KINDS = ['cost_threshold', 'failure_rate', 'circuit_open', 'circuit_closed'] as const;

export class AlertsQueryDto {
  @ApiPropertyOptional({ enum: KINDS })
  @IsOptional()
  @IsIn(KINDS)
  kind?: (typeof KINDS)[number];

  @ApiPropertyOptional({
    description: 'super_admin only: one tenant (default: every tenant and system alerts)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2147483647)
  tenant_id?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,18}$/, { message: 'cursor is not valid' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class AlertDto {
  @ApiProperty() id: string;
  @ApiProperty({ type: Number, nullable: true, description: 'null: a system alert (provider circuit)' })
  tenant_id: number | null;
  @ApiProperty({ enum: KINDS }) kind: string;
  @ApiProperty({ description: 'month (YYYY-MM) for cost alerts, window start otherwise' }) period: string;
  @ApiProperty({ type: Number, nullable: true }) threshold_pct: number | null;
  @ApiProperty({ type: String, nullable: true }) provider: string | null;
  @ApiProperty() message: string;
  @ApiProperty({ type: Object }) details: Record<string, unknown>;
  @ApiProperty({ enum: ['none', 'pending', 'delivered', 'failed'] }) webhook_status: string;
  @ApiProperty() webhook_attempts: number;
  @ApiProperty() created_at: string;
}

export class AlertSigningSecretDto {
  @ApiProperty({ description: 'the new secret; shown only in this answer', example: 'whsec_3J8…' })
  secret!: string;
}

export class AlertsPageDto {
  @ApiProperty({ type: [AlertDto] }) items: AlertDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}

@ApiTags('alerts')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/alerts')
export class AlertsController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Alerts, newest first',
    description:
      "Cost thresholds (80 % and 100 % of cost_alert_threshold, once per month), failure rate (SMS_FAILURE_ALERT_RATE over SMS_FAILURE_ALERT_MIN messages in 15 minutes) and provider circuits (system alerts, super_admin only). A tenant admin sees its tenant's; a super_admin every tenant's (tenant_id narrows). Keyset cursor.",
  })
  @ApiOkResponse({ type: AlertsPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: AlertsQueryDto): Promise<AlertsPageDto> {
    const limit = q.limit ?? 50;
    let tenantId: number | undefined = p.tenantId;
    if (isSuperAdmin(p)) tenantId = q.tenant_id;
    else if (q.tenant_id !== undefined && q.tenant_id !== p.tenantId)
      throw new ForbiddenError("only a super_admin may read another tenant's alerts");
    const rows = await this.alerts.list({ tenantId, kind: q.kind, before: q.cursor, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return {
      items: page.map((a) => ({
        ...alertPayload(a),
        webhook_status: a.webhook_status,
        webhook_attempts: a.webhook_attempts,
      })),
      next_cursor: rows.length > limit ? String(page[page.length - 1].id) : null,
    };
  }

  @Post('signing-secret')
  @HttpCode(201)
  @ApiOperation({
    summary:
      "Generate a new alert-webhook signing secret for the caller's tenant (shown only in this answer)",
    description:
      'Webhook requests carry `X-SMS-Signature: sha256=<hex HMAC-SHA256 of the raw body under this secret>`. The previous secret stops working at once. Audited (alerts.signing_secret.rotate, without the secret).',
  })
  @ApiCreatedResponse({ type: AlertSigningSecretDto, description: 'the secret is shown only here' })
  async rotate(@CurrentPrincipal() p: Principal): Promise<{ secret: string }> {
    const secret = await this.alerts.rotateSecret(p.tenantId);
    await this.audit.record(
      p,
      'alerts.signing_secret.rotate',
      { type: 'tenant', id: p.tenantId, tenantId: p.tenantId },
      null,
      { rotated: true },
    );
    return { secret };
  }
}
