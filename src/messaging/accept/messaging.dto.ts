import {
  DateTimeWithOffset,
  PageCursorField,
  PageLimitField,
  UserIdField,
  ValiditySecondsField,
} from '../../common/dto-fields';
import { FailureDto } from './failure.dto';
import {
  ChannelField,
  ContentSidField,
  ContentVariablesField,
  FallbackChannelField,
  MediaUrlsField,
} from './channel.fields';
import { Channel, CHANNELS, WHATSAPP_MODES, WhatsappMode } from '../../core/channels';
import { MetadataField } from './metadata';
import { SmartEncodingDto } from './smart-encoding.dto';
import { StatusCallbackUrlField } from '../../callbacks';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDate,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import {
  CODE_MESSAGE_TYPES,
  LANGUAGES,
  Language,
  MESSAGE_STATUSES,
  MESSAGE_TYPE_PATTERN,
  MESSAGE_TYPES,
  MessageStatus,
  MessageType,
} from '../../core/message-types';

/**
 * Types a free-text body may have. Code types are refused here: a code inside free text cannot be
 * redacted, and every message of those types must be stored as ******.
 */
export const FREE_TEXT_TYPES = MESSAGE_TYPES.filter((t) => !CODE_MESSAGE_TYPES.includes(t));

/** Hard ceiling for a body; the real limit is SMS_MAX_SEGMENTS, checked with the encoding. */
export const MAX_BODY_CHARS = 1600;

class SendBase {
  @ApiPropertyOptional({
    enum: FREE_TEXT_TYPES,
    default: 'general_notification',
    description: 'password_reset and 2fa_code go through /api/sms/verification/send, which redacts the code',
  })
  @IsOptional()
  @IsIn(FREE_TEXT_TYPES, {
    message: `message_type must be one of ${FREE_TEXT_TYPES.join(', ')}; send codes with POST /api/sms/verification/send`,
  })
  message_type?: MessageType;

  @ApiPropertyOptional({ enum: LANGUAGES, default: 'en' })
  @IsOptional()
  @IsIn(LANGUAGES)
  language?: Language;

  @UserIdField()
  user_id?: string;

  @MetadataField()
  metadata?: Record<string, unknown>;

  // Per-message status callback URL.
  @StatusCallbackUrlField()
  status_callback_url?: string;

  @ValiditySecondsField()
  validity_seconds?: number | null;

  // --- channels (issue 25, docs/sending.md#channels) ---
  @ChannelField() channel?: Channel;
  @MediaUrlsField() media_urls?: string[];
  @ContentSidField() content_sid?: string;
  @ContentVariablesField() content_variables?: Record<string, string>;
  @FallbackChannelField() fallback_channel?: 'sms';
  // --- end channels ---
}

export class SendSmsDto extends SendBase {
  @ApiProperty({ example: '+12025550123', description: 'E.164, or national with DEFAULT_COUNTRY_CODE' })
  @IsString()
  @Length(1, 64)
  phone_number: string;

  @ApiProperty({ example: 'Your appointment is tomorrow at 2 PM' })
  @IsString()
  @Length(1, MAX_BODY_CHARS)
  message: string;
}

export class SendBulkDto extends SendBase {
  @ApiProperty({ example: ['+12025550123', '+905321234567'], description: 'up to SMS_BULK_MAX numbers' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100_000)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  phone_numbers: string[];

  @ApiProperty({ example: 'Important announcement: Training session rescheduled' })
  @IsString()
  @Length(1, MAX_BODY_CHARS)
  message: string;
}

export class ScheduleSmsDto extends SendSmsDto {
  @ApiProperty({
    example: '2026-12-15T10:00:00Z',
    description: 'ISO 8601 with a time zone; future, within 35 days',
  })
  @DateTimeWithOffset()
  scheduled_time: Date;
}

export class HistoryQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) user_id?: string;
  @ApiPropertyOptional({ enum: MESSAGE_STATUSES })
  @IsOptional()
  @IsIn(MESSAGE_STATUSES)
  status?: MessageStatus;
  // History filters by custom template types too
  @ApiPropertyOptional({ type: String, description: 'a built-in type or a custom template type' })
  @IsOptional()
  @Matches(MESSAGE_TYPE_PATTERN, { message: 'message_type must be a built-in type or a lowercase slug' })
  message_type?: MessageType;
  @ApiPropertyOptional({ example: '+12025550123' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  phone_number?: string;
  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  from?: Date;
  @ApiPropertyOptional({ example: '2026-03-31T23:59:59Z' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  to?: Date;
  @ApiPropertyOptional() @IsOptional() @IsUUID() batch_id?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() campaign_id?: string;
  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS, { message: `channel must be one of ${CHANNELS.join(', ')}` })
  channel?: Channel;
  @PageLimitField()
  limit?: number;
  @PageCursorField()
  cursor?: string;
}

const WHATSAPP_MODE_ANSWER =
  'whatsapp: session (the recipient wrote within 24 hours: the message text goes as free text) or template (the window is closed: the approved content_sid goes); the status says which finally applied';

/** A message's channel fields, shown by status and history (issue 25). */
class ChannelColumnsDto {
  @ApiProperty({ enum: CHANNELS }) channel: Channel;
  @ApiProperty({ type: String, enum: WHATSAPP_MODES, nullable: true, description: WHATSAPP_MODE_ANSWER })
  whatsapp_mode: WhatsappMode | null;
  @ApiProperty({ type: [String], nullable: true, description: 'mms: the media URLs' })
  media_urls: string[] | null;
  @ApiProperty({ type: String, nullable: true, description: 'whatsapp: the content template' })
  content_sid: string | null;
  @ApiProperty({ type: String, enum: ['sms'], nullable: true }) fallback_channel: 'sms' | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'why the fallback SMS went (failed, undelivered, no_receipt) or why it could not (refused:<reason>); null: none (yet)',
  })
  fallback_reason: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the SMS sent in place of this WhatsApp message',
  })
  fallback_message_id: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'on a fallback SMS: the WhatsApp message it replaces',
  })
  fallback_of: string | null;
}

const SMART_ENCODING_ANSWER =
  "present only when the tenant's smart_encoding changed the text: its encoding and segments as written and as sent (encoding, segments and estimated_cost are as sent)";

export class SendResponseDto {
  @ApiProperty() success: boolean;
  @ApiProperty() message_id: string;
  @ApiProperty({ enum: ['queued', 'scheduled'] }) status: string;
  @ApiProperty() segments: number;
  @ApiProperty({ enum: ['GSM-7', 'UCS-2'] }) encoding: string;
  @ApiProperty({ type: Number, nullable: true }) estimated_cost: number | null;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiPropertyOptional({ type: SmartEncodingDto, description: SMART_ENCODING_ANSWER })
  smart_encoding?: SmartEncodingDto;
  @ApiProperty({
    description: 'test mode: handed to the sandbox only, never to a real provider; costs nothing',
  })
  test_mode: boolean;
  @ApiProperty({ enum: CHANNELS }) channel: Channel;
  @ApiPropertyOptional({ enum: WHATSAPP_MODES, description: WHATSAPP_MODE_ANSWER })
  whatsapp_mode?: WhatsappMode;
}

export class ScheduleResponseDto extends SendResponseDto {
  @ApiProperty() scheduled_time: string;
}

export class RejectedNumberDto {
  @ApiProperty() phone_number: string;
  @ApiProperty({ example: 'too_short' }) reason: string;
}

export class BulkResponseDto {
  @ApiProperty() success: boolean;
  @ApiProperty() batch_id: string;
  @ApiProperty() accepted: number;
  @ApiProperty({ type: [RejectedNumberDto] }) rejected: RejectedNumberDto[];
  @ApiProperty({ type: [String] }) message_ids: string[];
  @ApiProperty() segments: number;
  @ApiProperty() encoding: string;
  @ApiProperty({ type: Number, nullable: true, description: 'sum over accepted messages' }) estimated_cost:
    number | null;
  @ApiProperty() currency: string;
  @ApiPropertyOptional({
    type: SmartEncodingDto,
    description: `${SMART_ENCODING_ANSWER} (the shared text, per message)`,
  })
  smart_encoding?: SmartEncodingDto;
  @ApiProperty({
    description: 'test mode: handed to the sandbox only, never to a real provider; costs nothing',
  })
  test_mode: boolean;
  @ApiProperty({ enum: CHANNELS }) channel: Channel;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { session: 12, template: 30 },
    description: 'whatsapp: how many accepted messages go as free text (session) and as the content template',
  })
  whatsapp_modes?: Partial<Record<WhatsappMode, number>>;
}

/** The validity period's end, shown by status and history. */
const EXPIRES_AT = {
  type: String,
  nullable: true,
  description:
    'end of the validity period: not handed to a provider by then, the message ends `expired`; null: none',
} as const;

export class MessageEventDto {
  @ApiProperty() status: string;
  @ApiProperty() at: string;
  @ApiProperty({ example: 'worker' }) source: string;
  @ApiPropertyOptional({
    description: "on the worker's event of an attempt: why it went to the provider it went to first",
    example: 'routed to sns: twilio errors 31 % over 60 s',
  })
  route?: string;
}

const FAILURE_FIELD =
  'Why it did not arrive (failed, undelivered, unknown, canceled, expired), read from status and error_code; null otherwise.';
const SENDER_DESCRIPTION =
  "who it is from, chosen at acceptance from the tenant's senders for the destination country: a number (+E.164), a Twilio Messaging Service SID (MG…) or an alphanumeric sender ID; null: the provider's configured default";

export class MessageStatusDto extends ChannelColumnsDto {
  @ApiProperty() message_id: string;
  @ApiProperty({ enum: MESSAGE_STATUSES }) status: MessageStatus;
  @ApiProperty({ type: String, nullable: true }) provider: string | null;
  @ApiProperty({ type: String, nullable: true }) provider_message_id: string | null;
  @ApiProperty({ type: String, nullable: true, description: SENDER_DESCRIPTION, example: 'OKULUM' })
  sender: string | null;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: String, nullable: true }) error_code: string | null;
  @ApiProperty({ type: String, nullable: true }) error_message: string | null;
  @ApiProperty({ type: FailureDto, nullable: true, description: FAILURE_FIELD }) failure: FailureDto | null;
  @ApiProperty() segments: number;
  @ApiProperty() encoding: string;
  @ApiProperty({ type: Number, nullable: true }) cost: number | null;
  @ApiProperty({ type: Number, nullable: true }) estimated_cost: number | null;
  @ApiProperty() currency: string;
  @ApiProperty() created_at: string;
  @ApiProperty({ type: String, nullable: true }) scheduled_at: string | null;
  @ApiProperty(EXPIRES_AT) expires_at: string | null;
  @ApiProperty({ type: String, nullable: true }) sent_at: string | null;
  @ApiProperty({ type: String, nullable: true }) delivered_at: string | null;
  @ApiProperty({
    description: 'test mode: handed to the sandbox only, never to a real provider; costs nothing',
  })
  test_mode: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'code messages: when a verification check succeeded on the code it carried',
  })
  converted_at: string | null;
  @ApiProperty({ type: [MessageEventDto] }) events: MessageEventDto[];
}

export class MessageSummaryDto extends ChannelColumnsDto {
  @ApiProperty() message_id: string;
  @ApiProperty() phone_number: string;
  @ApiProperty({ description: 'verification codes appear as ******' }) body: string;
  @ApiProperty() message_type: string;
  @ApiProperty() language: string;
  @ApiProperty({ type: String, nullable: true }) template_id: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "the template's A/B variant it was rendered from (docs/templates.md); null: none",
  })
  variant: string | null;
  @ApiProperty({ type: String, nullable: true }) user_id: string | null;
  @ApiProperty() created_by: string;
  @ApiProperty() status: string;
  @ApiProperty({ type: String, nullable: true }) provider: string | null;
  @ApiProperty({ type: String, nullable: true, description: SENDER_DESCRIPTION, example: 'OKULUM' })
  sender: string | null;
  @ApiProperty() segments: number;
  @ApiProperty() encoding: string;
  @ApiProperty({ type: Number, nullable: true }) estimated_cost: number | null;
  @ApiProperty({ type: Number, nullable: true }) cost: number | null;
  @ApiProperty() currency: string;
  @ApiProperty({ type: String, nullable: true }) batch_id: string | null;
  @ApiProperty({ type: String, nullable: true }) campaign_id: string | null;
  @ApiProperty({ type: String, nullable: true }) error_code: string | null;
  @ApiProperty({ type: FailureDto, nullable: true, description: FAILURE_FIELD }) failure: FailureDto | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ type: String, nullable: true }) scheduled_at: string | null;
  @ApiProperty(EXPIRES_AT) expires_at: string | null;
  @ApiProperty({ type: String, nullable: true }) sent_at: string | null;
  @ApiProperty({ type: String, nullable: true }) delivered_at: string | null;
  @ApiProperty({
    description: 'test mode: handed to the sandbox only, never to a real provider; costs nothing',
  })
  test_mode: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'code messages: when a verification check succeeded on the code it carried',
  })
  converted_at: string | null;
  @ApiProperty() metadata: Record<string, unknown>;
}

export class HistoryResponseDto {
  @ApiProperty({ type: [MessageSummaryDto] }) items: MessageSummaryDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}
