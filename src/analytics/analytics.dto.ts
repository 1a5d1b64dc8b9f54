import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { MESSAGE_TYPE_PATTERN, MESSAGE_TYPES, MessageType } from '../core';

export const GROUP_BY = [
  'day',
  'week',
  'month',
  'provider',
  'message_type',
  'status',
  'language',
  'campaign',
  'tenant',
] as const;
export type GroupBy = (typeof GROUP_BY)[number];

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export class StatsQueryDto {
  @ApiPropertyOptional({
    example: '2026-10-01',
    description: 'first UTC day, inclusive (default: 29 days before end_date)',
  })
  @IsOptional()
  @Matches(ISO_DATE, { message: 'start_date must be an ISO date (YYYY-MM-DD)' })
  start_date?: string;

  @ApiPropertyOptional({
    example: '2026-10-30',
    description: 'last UTC day, inclusive (default: today, UTC); at most 400 days after start_date',
  })
  @IsOptional()
  @Matches(ISO_DATE, { message: 'end_date must be an ISO date (YYYY-MM-DD)' })
  end_date?: string;

  @ApiPropertyOptional({
    enum: GROUP_BY,
    description: '`tenant` is for super_admin only; weeks start on Monday',
  })
  @IsOptional()
  @IsIn(GROUP_BY)
  group_by?: GroupBy;

  @ApiPropertyOptional({
    type: String,
    example: 'appointment_reminder',
    description: `one of ${MESSAGE_TYPES.join(', ')}, or a tenant's own type (^[a-z][a-z0-9_]{1,48}$)`,
  })
  @IsOptional()
  @Matches(MESSAGE_TYPE_PATTERN, {
    message:
      'message_type must be a built-in type or a lowercase slug (a-z first, then a-z, 0-9, _; 2 to 49 characters)',
  })
  message_type?: MessageType;

  @ApiPropertyOptional({ example: 'twilio' }) @IsOptional() @IsString() @Length(1, 20) provider?: string;

  @ApiPropertyOptional() @IsOptional() @IsUUID() campaign_id?: string;

  @ApiPropertyOptional({ description: 'super_admin only: one tenant (default: every tenant)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2147483647)
  tenant_id?: number;
}

export class CostReportQueryDto {
  @ApiProperty({ example: '2026-10', description: 'UTC calendar month' })
  @Matches(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'month must be YYYY-MM' })
  month: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';

  @ApiPropertyOptional({ description: 'super_admin only: one tenant (default: every tenant)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2147483647)
  tenant_id?: number;
}

export class CurrencyCostDto {
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({ example: '23.7', description: 'exact decimal string' }) estimated_cost: string;
  @ApiProperty({ example: '23.1', description: 'sum of the costs providers reported (exact decimal string)' })
  actual_cost: string;
}

export class LatencyDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'ms; upper bound of the histogram bucket (4 per doubling, ~19 % wide)',
  })
  p50: number | null;
  @ApiProperty({ type: Number, nullable: true }) p95: number | null;
}

export class StatsFiguresDto {
  @ApiProperty({ description: 'every message accepted in the period' }) total: number;
  @ApiProperty({ description: 'waiting for or being handed to a provider (queued, sending)' }) queued: number;
  @ApiProperty({ description: 'scheduled for later' }) scheduled: number;
  @ApiProperty() sent: number;
  @ApiProperty() delivered: number;
  @ApiProperty() undelivered: number;
  @ApiProperty() failed: number;
  @ApiProperty() canceled: number;
  @ApiProperty({
    description: 'not handed to a provider within its validity period: never sent, never charged',
  })
  expired: number;
  @ApiProperty({ description: 'outcome being resolved with the provider' }) unknown: number;
  @ApiProperty() segments: number;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '23.7',
    description: 'exact decimal string; null when several currencies (see costs_by_currency)',
  })
  estimated_cost: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '23.1',
    description: 'costs providers reported; null when several currencies',
  })
  actual_cost: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'USD', description: 'null when none or several' })
  currency: string | null;
  @ApiProperty({
    type: [CurrencyCostDto],
    description: 'money per currency; amounts in different currencies are never added',
  })
  costs_by_currency: CurrencyCostDto[];
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.9731,
    description:
      'delivered / (delivered + undelivered + failed): over messages that reached a final outcome (canceled ones were never sent and are left out; sent/queued are not final yet). Null when none.',
  })
  delivery_rate: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: '(undelivered + failed) / (delivered + undelivered + failed); null when none',
  })
  failure_rate: number | null;
  @ApiProperty({ type: LatencyDto, description: 'delivered_at - sent_at over delivered messages' })
  delivery_latency_ms: LatencyDto;
}

export class StatsGroupDto extends StatsFiguresDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-10-01',
    description:
      'day/week (its Monday) YYYY-MM-DD, month YYYY-MM, or the provider, type, status, language, campaign id or tenant id; null: none (e.g. no provider yet)',
  })
  key: string | null;
}

export class StatsPeriodDto {
  @ApiProperty({ example: '2026-10-01' }) start_date: string;
  @ApiProperty({ example: '2026-10-30' }) end_date: string;
}

export class ConversionFiguresDto {
  @ApiProperty({
    description: 'code messages handed to a provider (a sent_at or delivered_at), or converted without one',
  })
  sent: number;
  @ApiProperty({ description: 'of those, converted: a verification check succeeded on their code' })
  converted: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.87,
    description: 'converted / sent; null when none was sent',
  })
  conversion_rate: number | null;
  @ApiProperty({
    type: LatencyDto,
    description:
      'time to convert: converted_at - sent_at (created_at when not known), over converted messages',
  })
  time_to_convert_ms: LatencyDto;
}

export class ConversionGroupDto extends ConversionFiguresDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'the UTC day of acceptance (YYYY-MM-DD), the provider, or the ISO 3166 country; null: none (no provider, a non-geographic number, or accepted before countries were kept)',
  })
  key: string | null;
}

export class ConversionCellDto extends ConversionFiguresDto {
  @ApiProperty({ example: '2026-10-01', description: 'UTC day of acceptance' }) day: string;
  @ApiProperty({ type: String, nullable: true, example: 'twilio' }) provider: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'TR', description: 'ISO 3166 alpha-2' })
  country: string | null;
}

export class ConversionStatsDto {
  @ApiProperty({ type: [String], example: ['password_reset', '2fa_code'] }) message_types: string[];
  @ApiProperty({ type: ConversionFiguresDto }) totals: ConversionFiguresDto;
  @ApiProperty({ type: [ConversionGroupDto], description: 'per UTC day of acceptance' })
  by_day: ConversionGroupDto[];
  @ApiProperty({ type: [ConversionGroupDto] }) by_provider: ConversionGroupDto[];
  @ApiProperty({ type: [ConversionGroupDto], description: 'per destination country' })
  by_country: ConversionGroupDto[];
  @ApiProperty({ type: [ConversionCellDto], description: 'per day, provider and country' })
  groups: ConversionCellDto[];
}

export class StatsResponseDto {
  @ApiProperty({ type: StatsPeriodDto }) period: StatsPeriodDto;
  @ApiProperty({ enum: GROUP_BY, nullable: true }) group_by: GroupBy | null;
  @ApiProperty({ type: StatsFiguresDto }) totals: StatsFiguresDto;
  @ApiProperty({ type: [StatsGroupDto] }) groups: StatsGroupDto[];
  @ApiProperty({
    type: ConversionStatsDto,
    nullable: true,
    description:
      'code conversion (password_reset, 2fa_code) in the same period, scope and provider filter, whatever group_by; null when the filters leave codes out (another message_type, or campaign_id: campaigns never send codes)',
  })
  conversion: ConversionStatsDto | null;
}

export class CostRowDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'provider, message type or tenant id; null in totals',
  })
  key: string | null;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty() messages: number;
  @ApiProperty() segments: number;
  @ApiProperty({
    example: '23.7',
    description: 'sum of estimates (sms_prices at accept time), exact decimal string',
  })
  estimated_cost: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'sum the providers reported; null when none reported',
  })
  actual_cost: string | null;
  @ApiProperty({ description: 'messages whose provider reported a cost' }) actual_messages: number;
  @ApiProperty({ type: String, nullable: true, description: 'estimates of those same messages' })
  estimated_cost_reported: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'actual_cost - estimated_cost_reported (like for like); null when none reported',
  })
  difference: string | null;
}

export class CostReportDto {
  @ApiProperty({ example: '2026-10' }) month: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'the tenant reported on; null: every tenant (super_admin)',
  })
  tenant_id: number | null;
  @ApiProperty({ type: [CostRowDto] }) by_provider: CostRowDto[];
  @ApiProperty({ type: [CostRowDto] }) by_message_type: CostRowDto[];
  @ApiPropertyOptional({
    type: [CostRowDto],
    description:
      'per channel (key sms, whatsapp, mms; docs/sending.md, Channels): a WhatsApp message that fell back to SMS counts on each',
  })
  by_channel?: CostRowDto[];
  @ApiPropertyOptional({ type: [CostRowDto], description: 'super_admin across tenants only' })
  by_tenant?: CostRowDto[];
  @ApiProperty({ type: [CostRowDto], description: 'one row per currency' }) totals: CostRowDto[];
}
