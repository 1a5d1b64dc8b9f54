import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { Principal, ROLE_ADMIN } from '../auth/principal';
import { ApiErrors, ErrorResponseDto } from '../common/api-errors';
import { formatMoney } from '../core/money';
import {
  CampaignPageDto,
  CampaignPreviewDto,
  CampaignResponseDto,
  CampaignStatusDto,
  CreateCampaignDto,
  decodeCampaignCursor,
  encodeCampaignCursor,
  ListCampaignsQueryDto,
} from './campaigns.dto';
import { Campaign, CampaignInput, CampaignsService } from './campaigns.service';
import { channelInput } from '../messaging';

/** The brief's example body. */
const BRIEF_EXAMPLE = {
  name: 'March Training Reminder',
  template_id: 'training_reminder',
  recipient_filters: { roles: ['beneficiary'], tenant_id: 1 },
  scheduled_for: '2024-03-10T09:00:00Z',
};

function inputOf(dto: CreateCampaignDto): CampaignInput {
  const f = dto.recipient_filters;
  return {
    name: dto.name,
    templateId: dto.template_id,
    filters: {
      roles: f.roles,
      tenant_id: f.tenant_id,
      languages: f.languages,
      user_ids: f.user_ids,
      tags: f.tags,
    },
    variables: dto.variables ?? {},
    scheduledFor: dto.scheduled_for,
    validitySeconds: dto.validity_seconds ?? null,
    sendAt: dto.send_at ?? 'now',
    optimalWindowHours: dto.optimal_window_hours ?? null,
    channel:
      dto.channel || dto.content_sid || dto.media_urls || dto.fallback_channel ? channelInput(dto) : null,
  };
}

function present(c: Campaign, estimated = c.totalRecipients): CampaignResponseDto {
  const filters = Object.fromEntries(
    Object.entries(c.filters).filter(([, v]) => v !== undefined && v !== null),
  );
  return {
    campaign_id: c.id,
    name: c.name,
    template_id: c.templateId,
    status: c.status,
    recipient_filters: { ...filters, tenant_id: c.tenantId },
    variables: c.variables,
    scheduled_for: c.scheduledFor?.toISOString() ?? null,
    validity_seconds: c.validitySeconds,
    send_at: c.sendAt,
    optimal_window_hours: c.optimalWindowHours,
    channel: c.channel?.channel ?? null,
    estimated_recipients: estimated,
    created_at: c.createdAt.toISOString(),
    started_at: c.startedAt?.toISOString() ?? null,
    completed_at: c.completedAt?.toISOString() ?? null,
  };
}

@ApiTags('campaigns')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/campaigns')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a campaign (tenant admin)',
    description:
      'Status `draft`, or `scheduled` with a future `scheduled_for` (it then executes by itself). recipient_filters.tenant_id must be your own tenant unless you are super_admin (403). 404 "template not found".',
  })
  @ApiBody({ type: CreateCampaignDto, examples: { brief: { value: BRIEF_EXAMPLE } } })
  @ApiCreatedResponse({ type: CampaignResponseDto })
  async create(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateCampaignDto,
  ): Promise<CampaignResponseDto> {
    const { campaign, estimated } = await this.campaigns.create(p, inputOf(dto));
    return present(campaign, estimated);
  }

  @Post('preview')
  @HttpCode(200)
  @ApiOperation({
    summary: 'What a campaign would send, computed now; stores nothing',
    description:
      'Same body as create. Counts by language, skips by reason, segments, encodings, the estimated cost (exact sum of per-message estimates) and the rendered text of the first three recipients.',
  })
  @ApiBody({ type: CreateCampaignDto, examples: { brief: { value: BRIEF_EXAMPLE } } })
  @ApiOkResponse({ type: CampaignPreviewDto })
  async preview(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateCampaignDto,
  ): Promise<CampaignPreviewDto> {
    const r = await this.campaigns.preview(p, inputOf(dto));
    return {
      total_recipients: r.total,
      will_send: r.willSend,
      by_language: r.byLanguage,
      skipped: r.skipped,
      segments: r.segments,
      encoding: r.encoding,
      estimated_cost: r.estimatedCost === null ? null : formatMoney(r.estimatedCost),
      currency: r.currency,
      sample: r.sample.map((s) => ({
        user_id: s.userId,
        language: s.language,
        text: s.text,
        segments: s.segments,
        encoding: s.encoding,
      })),
    };
  }

  @Get()
  @ApiOperation({
    summary: 'List campaigns',
    description: 'Tenant admin. Newest first, cursor paging.',
  })
  @ApiOkResponse({ type: CampaignPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: ListCampaignsQueryDto): Promise<CampaignPageDto> {
    const limit = q.limit ?? 50;
    const rows = await this.campaigns.list(
      p.tenantId,
      q.cursor ? decodeCampaignCursor(q.cursor) : undefined,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((c) => present(c)),
      next_cursor: rows.length > limit ? encodeCampaignCursor(last.createdAt, last.id) : null,
    };
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One campaign',
    description: "Tenant admin. Another tenant's campaign is a 404.",
  })
  @ApiOkResponse({ type: CampaignResponseDto })
  async get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<CampaignResponseDto> {
    return present(await this.campaigns.get(p.tenantId, id));
  }

  @Post(':id/execute')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Execute a campaign now (once)',
    description:
      'Snapshots the recipients into messages in the background. 409 when running, completed or canceled; 429 when the tenant setting campaign_daily_limit (default 50,000 recipients a day, UTC) would be exceeded.',
  })
  @ApiAcceptedResponse({ type: CampaignResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'the campaign ran already' })
  async execute(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<CampaignResponseDto> {
    return present(await this.campaigns.execute(p, p.tenantId, id));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel: messages not yet handed to a provider become canceled',
    description: 'Tenant admin. Messages already handed to a provider go on; the campaign ends canceled.',
  })
  @ApiOkResponse({ type: CampaignResponseDto })
  async cancel(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<CampaignResponseDto> {
    return present(await this.campaigns.cancel(p, p.tenantId, id));
  }

  @Get(':id/status')
  @ApiOperation({
    summary: 'Progress of a campaign (a read: the campaign job completes it once every message is final)',
    description:
      'Tenant admin. Counts by status, skips by reason, deferred (quiet hours), estimated and actual cost (exact decimal strings), progress.',
  })
  @ApiOkResponse({ type: CampaignStatusDto })
  async status(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<CampaignStatusDto> {
    const s = await this.campaigns.status(p.tenantId, id);
    const n = (k: string) => s.counts[k] ?? 0;
    const c = s.campaign;
    const total = c.snapshotDone
      ? Object.values(s.counts).reduce((a, b) => a + b, 0) +
        Object.values(s.skipped).reduce((a, b) => a + b, 0)
      : c.totalRecipients;
    return {
      campaign_id: c.id,
      status: c.status,
      total_recipients: total,
      queued: n('queued') + n('scheduled'),
      deferred: n('scheduled'),
      sending: n('sending') + n('unknown'),
      sent: n('sent'),
      delivered: n('delivered'),
      failed: n('failed') + n('undelivered'),
      canceled: n('canceled'),
      expired: n('expired'),
      skipped: s.skipped,
      estimated_cost: s.estimatedCost,
      actual_cost: s.actualCost,
      currency: s.currency,
      progress: s.progress,
      started_at: c.startedAt?.toISOString() ?? null,
      completed_at: c.completedAt?.toISOString() ?? null,
    };
  }
}
