import { Controller, Get, GoneException, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { isSuperAdmin, Principal, ROLE_ADMIN } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ForbiddenError } from '../common/errors';
import { AlertsService, toAlertDto } from './alerts.service';

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

export class AlertDeliveriesDto {
  @ApiProperty({ description: 'still being tried' }) pending: number;
  @ApiProperty({ description: 'answered 2xx' }) delivered: number;
  @ApiProperty({ description: 'given up' }) failed: number;
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
  @ApiProperty({
    type: AlertDeliveriesDto,
    description:
      "how the deliveries of this alert's alert.raised event stand, one per webhook endpoint subscribed to alert.raised when it was raised (all 0 for a system alert or a tenant without such an endpoint; finished deliveries leave the count when retention purges them); each delivery is in GET /api/sms/webhook-deliveries?event_type=alert.raised",
  })
  deliveries: AlertDeliveriesDto;
  @ApiProperty() created_at: string;
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
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @ApiOperation({
    summary: 'Alerts, newest first',
    description:
      "Cost thresholds (80 % and 100 % of cost_alert_threshold, once per month), failure rate (SMS_FAILURE_ALERT_RATE over SMS_FAILURE_ALERT_MIN messages in 15 minutes) and provider circuits (system alerts, super_admin only). A tenant admin sees its tenant's; a super_admin every tenant's (tenant_id narrows). Keyset cursor. A tenant's alert is also an alert.raised event, delivered to its webhook endpoints subscribed to it (POST /api/sms/webhook-endpoints).",
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
      items: page.map(toAlertDto),
      next_cursor: rows.length > limit ? String(page[page.length - 1].id) : null,
    };
  }

  /**
   * Retired with the alert webhook: alerts go to webhook endpoints subscribed to alert.raised, whose
   * secrets rotate per endpoint. Out of the contract; answers 410 naming the route that replaces it.
   */
  @Post('signing-secret')
  @ApiExcludeEndpoint()
  rotate(): never {
    throw new GoneException(
      "the alert signing secret is gone: alerts are delivered to webhook endpoints subscribed to alert.raised; rotate such an endpoint's secret with POST /api/sms/webhook-endpoints/{id}/rotate-secret",
    );
  }
}
