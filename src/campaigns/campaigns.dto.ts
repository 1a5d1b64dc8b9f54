import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ChannelField,
  ContentSidField,
  ContentVariablesField,
  FallbackChannelField,
  MediaUrlsField,
} from '../messaging';
import { Channel, CHANNELS } from '../core/channels';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { DateTimeWithOffset, PageCursorField, ValiditySecondsField } from '../common/dto-fields';
import { ValidationFailedError } from '../common/errors';
import { LANGUAGES } from '../core/message-types';

const SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export class RecipientFiltersDto {
  @ApiPropertyOptional({ example: ['beneficiary'], description: 'any of these roles' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(LABEL, { each: true, message: 'each role must be a label' })
  roles?: string[];

  @ApiPropertyOptional({
    example: 1,
    description: "the caller's own tenant (another tenant's id is 403 unless the caller is super_admin)",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2147483647)
  tenant_id?: number;

  @ApiPropertyOptional({ example: ['tr'], enum: LANGUAGES, isArray: true })
  @IsOptional()
  @IsArray()
  @IsIn(LANGUAGES, { each: true })
  languages?: string[];

  @ApiPropertyOptional({ example: ['4711'], description: 'only these users' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10_000)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  user_ids?: string[];

  @ApiPropertyOptional({ example: ['ankara'], description: 'any of these tags' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(LABEL, { each: true, message: 'each tag must be a label' })
  tags?: string[];
}

export class CreateCampaignDto {
  @ApiProperty({ example: 'March Training Reminder' }) @IsString() @Length(1, 200) name: string;

  @ApiProperty({ example: 'training_reminder', description: "the tenant's template or a default" })
  @Matches(SLUG, { message: 'template_id must be a slug' })
  template_id: string;

  @ApiProperty({
    type: RecipientFiltersDto,
    example: { roles: ['beneficiary'], tenant_id: 1 },
    description: 'all ANDed; each list ORed',
  })
  @IsObject()
  @ValidateNested()
  @Type(() => RecipientFiltersDto)
  recipient_filters: RecipientFiltersDto;

  @ApiPropertyOptional({
    example: { month: 'March' },
    description: "campaign-wide template values; a recipient's own attributes win",
  })
  @IsOptional()
  @IsObject()
  variables?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: '2024-03-10T09:00:00Z',
    description: 'future; the campaign then runs by itself',
  })
  @IsOptional()
  @DateTimeWithOffset()
  scheduled_for?: Date;

  @ValiditySecondsField(
    "seconds each message may wait to be handed to a provider, from when the campaign's snapshot accepts it; past it the message ends `expired` (never sent, never charged, final for the campaign). Wins over the template's `validity_seconds`; default: the template's, else none",
  )
  validity_seconds?: number | null;

  @ApiPropertyOptional({
    enum: ['now', 'optimal'],
    example: 'optimal',
    description:
      "`optimal`: each recipient's message goes within `optimal_window_hours` of the campaign's start, at the local hour their past messages were answered soonest (a verified code or a click on a tracked link, whichever came first), else at the tenant's best hour, else at the window's start; quiet hours still bind. Default `now`",
  })
  @IsOptional()
  @IsIn(['now', 'optimal'], { message: 'send_at must be "now" or "optimal"' })
  send_at?: 'now' | 'optimal';

  @ApiPropertyOptional({
    example: 24,
    description:
      'with send_at "optimal": the window in hours from the campaign\'s start (1 to 72; default 24)',
  })
  @IsOptional()
  @IsInt({ message: 'optimal_window_hours must be an integer' })
  @Min(1)
  @Max(72)
  optimal_window_hours?: number;

  // channels (issue 25): absent: the template's channel (and its content_sid for whatsapp).
  @ChannelField() channel?: Channel;
  @MediaUrlsField() media_urls?: string[];
  @ContentSidField() content_sid?: string;
  @ContentVariablesField() content_variables?: Record<string, string>;
  @FallbackChannelField() fallback_channel?: 'sms';
}

export class ListCampaignsQueryDto {
  @PageCursorField()
  cursor?: string;
  @ApiPropertyOptional({ example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class CampaignResponseDto {
  @ApiProperty({ example: '7f1c0c5e-8a4e-4a43-9a55-3c2f3f0e2b1d' }) campaign_id: string;
  @ApiProperty({ example: 'March Training Reminder' }) name: string;
  @ApiProperty({ example: 'training_reminder' }) template_id: string;
  @ApiProperty({ enum: ['draft', 'scheduled', 'running', 'completed', 'canceled'] }) status: string;
  @ApiProperty({ example: { roles: ['beneficiary'], tenant_id: 1 } }) recipient_filters: Record<
    string,
    unknown
  >;
  @ApiProperty({ type: Object }) variables: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true, example: '2024-03-10T09:00:00.000Z' }) scheduled_for:
    string | null;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: "the campaign's own validity period in seconds (null: the template's, if any)",
  })
  validity_seconds: number | null;
  @ApiProperty({
    enum: ['now', 'optimal'],
    description: 'optimal: delivery-time optimisation within the window',
  })
  send_at: 'now' | 'optimal';
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'send_at optimal: the window in hours; else null',
  })
  optimal_window_hours: number | null;
  @ApiProperty({
    type: String,
    enum: CHANNELS,
    nullable: true,
    description: "the campaign's own channel; null: its template's",
  })
  channel: Channel | null;
  @ApiProperty({ example: 120, description: 'recipients the filters select now' })
  estimated_recipients: number;
  @ApiProperty() created_at: string;
  @ApiProperty({ type: String, nullable: true }) started_at: string | null;
  @ApiProperty({ type: String, nullable: true }) completed_at: string | null;
}

export class CampaignPageDto {
  @ApiProperty({ type: [CampaignResponseDto] }) items: CampaignResponseDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}

export class CampaignStatusDto {
  @ApiProperty() campaign_id: string;
  @ApiProperty({ example: 'running' }) status: string;
  @ApiProperty({ example: 120 }) total_recipients: number;
  @ApiProperty({ description: 'waiting, including deferred' }) queued: number;
  @ApiProperty({
    description:
      "waiting for a later time (status scheduled): the end of the recipient's quiet hours, or a send_at optimal campaign's chosen time",
  })
  deferred: number;
  @ApiProperty() sending: number;
  @ApiProperty() sent: number;
  @ApiProperty() delivered: number;
  @ApiProperty({ description: 'failed and undelivered' }) failed: number;
  @ApiProperty() canceled: number;
  @ApiProperty({ description: 'not handed to a provider within its validity period' }) expired: number;
  @ApiProperty({ example: { opted_out: 1, invalid_phone: 0, missing_variables: 2, inactive: 3 } })
  skipped: Record<string, number>;
  @ApiProperty({ type: String, nullable: true, example: '0.9480' }) estimated_cost: string | null;
  @ApiProperty({ type: String, nullable: true, example: '0.0000' }) actual_cost: string | null;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({ example: 0.25, description: 'recipients in a final state (or skipped) / total' })
  progress: number;
  @ApiProperty({ type: String, nullable: true }) started_at: string | null;
  @ApiProperty({ type: String, nullable: true }) completed_at: string | null;
}

export class CampaignPreviewDto {
  @ApiProperty({ example: 120 }) total_recipients: number;
  @ApiProperty({ example: 115 }) will_send: number;
  @ApiProperty({ example: { en: 80, tr: 35 } }) by_language: Record<string, number>;
  @ApiProperty({ example: { opted_out: 1, invalid_phone: 0, missing_variables: 2, inactive: 2 } })
  skipped: Record<string, number>;
  @ApiProperty({ example: 115, description: 'segments of every message together' }) segments: number;
  @ApiProperty({ example: { 'GSM-7': 80, 'UCS-2': 35 } }) encoding: Record<string, number>;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '0.9085',
    description: 'exact sum of per-message estimates',
  })
  estimated_cost: string | null;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: {
        user_id: { type: 'string' },
        language: { type: 'string' },
        text: { type: 'string' },
        segments: { type: 'integer' },
        encoding: { type: 'string' },
      },
    },
    example: [{ user_id: '4711', language: 'tr', text: 'Merhaba Ayşe, ...', segments: 1, encoding: 'UCS-2' }],
  })
  sample: { user_id: string; language: string; text: string; segments: number; encoding: string }[];
}

export function encodeCampaignCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

export function decodeCampaignCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const d = new Date(at);
  if (extra !== undefined || Number.isNaN(d.getTime()) || !/^[0-9a-f-]{36}$/.test(id ?? ''))
    throw ValidationFailedError.field('cursor', 'cursor is not valid');
  return { createdAt: d, id };
}
