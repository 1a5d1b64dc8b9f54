import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID, Matches } from 'class-validator';
import type { LinkStatsGroup, LinkStatsRow } from './links.repository';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
export const LINK_STATS_GROUPS: readonly LinkStatsGroup[] = ['campaign', 'template', 'variant'];

export class LinkStatsQueryDto {
  @ApiPropertyOptional({
    example: '2026-10-01',
    description: 'first UTC day of acceptance, inclusive (default: 29 days before end_date)',
  })
  @IsOptional()
  @Matches(ISO_DATE, { message: 'start_date must be an ISO date (YYYY-MM-DD)' })
  start_date?: string;

  @ApiPropertyOptional({
    example: '2026-10-30',
    description:
      'last UTC day of acceptance, inclusive (default: today, UTC); at most 400 days after start_date',
  })
  @IsOptional()
  @Matches(ISO_DATE, { message: 'end_date must be an ISO date (YYYY-MM-DD)' })
  end_date?: string;

  @ApiPropertyOptional({
    enum: LINK_STATS_GROUPS,
    description: 'campaign (default), template, or variant (template and variant)',
  })
  @IsOptional()
  @IsIn(LINK_STATS_GROUPS, { message: `group_by must be one of ${LINK_STATS_GROUPS.join(', ')}` })
  group_by?: LinkStatsGroup;

  @ApiPropertyOptional({ description: "only this campaign's messages" })
  @IsOptional()
  @IsUUID('all', { message: 'campaign_id must be a UUID' })
  campaign_id?: string;
}

export class LinkStatsRowDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'group_by=campaign; null: messages of no campaign',
  })
  campaign_id: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'group_by=template or variant' })
  template_id: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'group_by=variant; null: no variant' })
  variant: string | null;
  @ApiProperty({ description: 'messages accepted in the period with at least one tracked link' })
  messages: number;
  @ApiProperty({ description: 'of those, messages clicked at least once (a message counts once)' })
  clicked: number;
  @ApiProperty({ description: 'clicked / messages, 0..1 (0 when no message)', example: 0.125 })
  click_rate: number;
  @ApiProperty({ description: 'every request to their links, repeated clicks included' })
  hits: number;
}

export class LinkStatsResponseDto {
  @ApiProperty({ example: '2026-10-01' }) start_date: string;
  @ApiProperty({ example: '2026-10-30' }) end_date: string;
  @ApiProperty({ enum: LINK_STATS_GROUPS }) group_by: LinkStatsGroup;
  @ApiProperty({ type: LinkStatsRowDto, description: 'the whole period, every group' })
  totals: LinkStatsRowDto;
  @ApiProperty({ type: [LinkStatsRowDto], description: 'one per group, most messages first (at most 1,000)' })
  rows: LinkStatsRowDto[];
}

function rate(clicked: number, messages: number): number {
  return messages === 0 ? 0 : Math.round((clicked / messages) * 10_000) / 10_000;
}

export function toLinkStatsRow(r: LinkStatsRow): LinkStatsRowDto {
  return { ...r, click_rate: rate(r.clicked, r.messages) };
}

export function linkStatsTotals(rows: LinkStatsRow[]): LinkStatsRowDto {
  const sum = (k: 'messages' | 'clicked' | 'hits') => rows.reduce((a, r) => a + r[k], 0);
  return toLinkStatsRow({
    campaign_id: null,
    template_id: null,
    variant: null,
    messages: sum('messages'),
    clicked: sum('clicked'),
    hits: sum('hits'),
  });
}
