import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { AnalyticsService, StatsQueryDto } from '../../analytics';
import { CurrentPrincipal } from '../../auth/decorators';
import { ReplicaReads } from '../../database/replica-reads';
import { Principal } from '../../auth/principal';
import { ApiErrors } from '../../common/api-errors';
import { Channel, CHANNELS } from '../../core/channels';
import { formatMoney, parseMoney } from '../../core/money';

export class ChannelFiguresDto {
  @ApiProperty({ enum: CHANNELS }) channel: Channel;
  @ApiProperty({ description: 'messages accepted in the period' }) total: number;
  @ApiProperty() delivered: number;
  @ApiProperty() undelivered: number;
  @ApiProperty() failed: number;
  @ApiProperty({ description: 'WhatsApp and MMS: one per message' }) segments: number;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'exact decimal string; null when several currencies',
  })
  estimated_cost: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'costs the provider reported; null when several currencies',
  })
  actual_cost: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'USD' }) currency: string | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'delivered / (delivered + undelivered + failed)',
  })
  delivery_rate: number | null;
}

export class ChannelStatsDto {
  @ApiProperty({ example: '2026-10-01' }) start_date: string;
  @ApiProperty({ example: '2026-10-30' }) end_date: string;
  @ApiProperty({ type: [ChannelFiguresDto], description: 'one row per channel with messages in the period' })
  by_channel: ChannelFiguresDto[];
  @ApiProperty({
    description:
      'WhatsApp messages that went out again as SMS (fallback_channel) in the period: both are counted and both are charged',
  })
  fallbacks: number;
}

interface OtherRow {
  channel: Channel;
  currency: string;
  total: string;
  delivered: string;
  undelivered: string;
  failed: string;
  segments: string;
  estimated_cost: string | null;
  actual_cost: string | null;
  fallbacks: string;
}

/**
 * Stats split by channel (issue 25): WhatsApp and MMS are counted from the ledger through a
 * partial index that holds only their rows (`sms_messages_other_channels`), SMS as the daily
 * rollup's totals less those; so the split costs a scan of the non-SMS messages only. Both read
 * the replica (DATABASE_READ_URL) while it is fresh, the primary otherwise.
 */
@ApiTags('analytics')
@ApiBearerAuth()
@ApiErrors()
@Controller('api/sms')
export class ChannelStatsController {
  constructor(
    private readonly reads: ReplicaReads,
    private readonly analytics: AnalyticsService,
  ) {}

  @Get('stats/channels')
  @ApiOperation({
    summary: 'Messages, delivery and cost per channel (sms, whatsapp, mms) over a period',
    description:
      'Same scope and period rules as /api/sms/stats (UTC days of acceptance; message_type, provider and campaign_id filter too). A WhatsApp message that fell back to SMS counts once on each channel.',
  })
  @ApiOkResponse({ type: ChannelStatsDto })
  async channels(@CurrentPrincipal() p: Principal, @Query() q: StatsQueryDto): Promise<ChannelStatsDto> {
    const scope = this.analytics.scopeOf(p, q.tenant_id);
    const { start, end } = this.analytics.period(q.start_date, q.end_date);
    const all = await this.analytics.stats(scope, {
      start,
      end,
      groupBy: null,
      messageType: q.message_type,
      provider: q.provider,
      campaignId: q.campaign_id,
    });
    const params: unknown[] = [start, end];
    const where = [
      `channel <> 'sms'`,
      `created_at >= ($1::date)::timestamp AT TIME ZONE 'UTC'`,
      `created_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'`,
    ];
    if (scope.tenantId !== null) where.push(`tenant_id = $${params.push(scope.tenantId)}`);
    if (scope.createdBy !== null) where.push(`created_by = $${params.push(scope.createdBy)}`);
    if (q.message_type !== undefined) where.push(`message_type = $${params.push(q.message_type)}`);
    if (q.provider !== undefined) where.push(`provider = $${params.push(q.provider)}`);
    if (q.campaign_id !== undefined) where.push(`campaign_id = $${params.push(q.campaign_id)}::uuid`);
    // From the read replica when one is configured and fresh, as the rest of the stats.
    const rows: OtherRow[] = await this.reads.run((ds) =>
      ds.query(
        `SELECT channel, currency, count(*)::text AS total,
              count(*) FILTER (WHERE status = 'delivered')::text AS delivered,
              count(*) FILTER (WHERE status = 'undelivered')::text AS undelivered,
              count(*) FILTER (WHERE status = 'failed')::text AS failed,
              sum(segments)::text AS segments,
              trim_scale(sum(estimated_cost))::text AS estimated_cost,
              trim_scale(sum(cost))::text AS actual_cost,
              count(*) FILTER (WHERE fallback_message_id IS NOT NULL)::text AS fallbacks
         FROM sms_messages WHERE ${where.join(' AND ')}
        GROUP BY channel, currency ORDER BY channel`,
        params,
      ),
    );
    const t = all.totals;
    const sms = {
      total: t.total,
      delivered: t.delivered,
      undelivered: t.undelivered,
      failed: t.failed,
      segments: t.segments,
      estimated: parseMoney(t.estimated_cost),
      actual: parseMoney(t.actual_cost),
    };
    const byChannel = new Map<Channel, ChannelFiguresDto>();
    let fallbacks = 0;
    for (const r of rows) {
      fallbacks += Number(r.fallbacks);
      const known = byChannel.get(r.channel);
      const est = parseMoney(r.estimated_cost ?? '0') ?? 0;
      const act = parseMoney(r.actual_cost ?? '0') ?? 0;
      sms.total -= Number(r.total);
      sms.delivered -= Number(r.delivered);
      sms.undelivered -= Number(r.undelivered);
      sms.failed -= Number(r.failed);
      sms.segments -= Number(r.segments);
      // Money in another currency than the totals' cannot be taken from them.
      if (sms.estimated !== null && t.currency === r.currency.trim()) sms.estimated -= est;
      else sms.estimated = null;
      if (sms.actual !== null && t.currency === r.currency.trim()) sms.actual -= act;
      else sms.actual = null;
      byChannel.set(
        r.channel,
        known
          ? {
              ...known,
              total: known.total + Number(r.total),
              estimated_cost: null,
              actual_cost: null,
              currency: null,
            }
          : figures(r.channel, {
              total: Number(r.total),
              delivered: Number(r.delivered),
              undelivered: Number(r.undelivered),
              failed: Number(r.failed),
              segments: Number(r.segments),
              estimated: est,
              actual: act,
              currency: r.currency.trim(),
            }),
      );
    }
    const list = [figures('sms', { ...sms, currency: t.currency }), ...byChannel.values()].filter(
      (c) => c.total > 0,
    );
    return { start_date: start, end_date: end, by_channel: list, fallbacks };
  }
}

function figures(
  channel: Channel,
  f: {
    total: number;
    delivered: number;
    undelivered: number;
    failed: number;
    segments: number;
    estimated: number | null;
    actual: number | null;
    currency: string | null;
  },
): ChannelFiguresDto {
  const final = f.delivered + f.undelivered + f.failed;
  return {
    channel,
    total: f.total,
    delivered: f.delivered,
    undelivered: f.undelivered,
    failed: f.failed,
    segments: f.segments,
    estimated_cost: f.estimated === null ? null : formatMoney(f.estimated),
    actual_cost: f.actual === null ? null : formatMoney(f.actual),
    currency: f.currency,
    delivery_rate: final === 0 ? null : Math.round((f.delivered / final) * 10_000) / 10_000,
  };
}
