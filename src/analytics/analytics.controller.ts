import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { Principal, ROLE_ADMIN } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { CostReportDto, CostReportQueryDto, StatsQueryDto, StatsResponseDto } from './analytics.dto';
import { AnalyticsService } from './analytics.service';
import { costReportCsv } from './csv';

@ApiTags('analytics')
@ApiErrors()
@ApiBearerAuth()
@Controller('api/sms')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('stats')
  @ApiOperation({
    summary: 'Message counts, segments, costs, delivery rates and latency over a period',
    description:
      'From the daily rollup (UTC days of acceptance), exact at the moment of the request. A tenant admin sees its tenant, ' +
      'a plain user only the messages they created, a super_admin every tenant (or one: tenant_id or X-Tenant-Id). ' +
      'Rates are over messages that reached a final outcome (delivered, undelivered, failed). Money is exact decimal strings ' +
      'per currency; different currencies are never added.',
  })
  @ApiOkResponse({ type: StatsResponseDto })
  async stats(@CurrentPrincipal() p: Principal, @Query() q: StatsQueryDto): Promise<StatsResponseDto> {
    const groupBy = q.group_by ?? null;
    const scope = this.analytics.scopeOf(p, q.tenant_id, groupBy);
    const { start, end } = this.analytics.period(q.start_date, q.end_date);
    return this.analytics.stats(scope, {
      start,
      end,
      groupBy,
      messageType: q.message_type,
      provider: q.provider,
      campaignId: q.campaign_id,
    });
  }

  @Get('reports/costs')
  @Roles(ROLE_ADMIN)
  @ApiOperation({
    summary: 'Monthly cost report per provider, message type and (super_admin) tenant',
    description:
      'Messages handed to a provider in the UTC month: counts, segments, estimated cost, the cost providers reported ' +
      '(where they did), and the difference over those same messages; one row per currency. `format=csv` downloads ' +
      'the same rows as text/csv. Tenant admins see their tenant; a super_admin every tenant (or tenant_id / X-Tenant-Id).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: CostReportDto })
  async costs(
    @CurrentPrincipal() p: Principal,
    @Query() q: CostReportQueryDto,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<CostReportDto | string> {
    const scope = this.analytics.scopeOf(p, q.tenant_id);
    const report = await this.analytics.costReport(scope, q.month);
    if (q.format !== 'csv') return report;
    const who = scope.tenantId === null ? 'all' : `tenant-${scope.tenantId}`;
    res.header('Content-Type', 'text/csv; charset=utf-8');
    res.header('Content-Disposition', `attachment; filename="sms-costs-${q.month}-${who}.csv"`);
    return costReportCsv(report);
  }
}
