import { UserIdField, ValiditySecondsField } from '../common/dto-fields';
import {
  ChannelField,
  ContentSidField,
  ContentVariablesField,
  FallbackChannelField,
  MediaUrlsField,
} from '../messaging';
import { Channel, CHANNELS } from '../core/channels';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
} from 'class-validator';
import { SmartEncodingMode, smartEncodingMode } from '../core/smart-encoding';
import {
  isTransactional,
  LANGUAGES,
  Language,
  MESSAGE_TYPE_PATTERN,
  MESSAGE_TYPES,
  MessageType,
} from '../core/message-types';
import { MetadataField, SmartEncodingDto } from '../messaging';
import { StatusCallbackUrlField } from '../callbacks';
import { SmsTemplateEntity } from './template.entity';

const SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_CONTENT = 1600;
const TYPE_MESSAGE =
  'message_type must be a built-in type or a lowercase slug (a-z first, then a-z, 0-9, _; 2 to 49 characters)';
const TYPE_DESCRIPTION = `one of ${MESSAGE_TYPES.join(', ')}, or the tenant's own slug (^[a-z][a-z0-9_]{1,48}$; sent as promotional unless transactional is true)`;

const TEMPLATE_VALIDITY =
  "validity period of the messages sent with this template, in seconds (1 to 259200), unless a send gives its own `validity_seconds`; past it a message not yet handed to a provider ends `expired`. Null: none (a code template's messages then get the code's lifetime). Omitted on PUT/PATCH: unchanged";

/** `transactional`: only for a custom message type (a built-in type keeps its own class). */
function TransactionalField(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      example: false,
      description: 'custom message types only: send as transactional SMS (default promotional)',
    })(target, key);
    IsOptional()(target, key);
    IsBoolean()(target, key);
  };
}

/** `exact`: the texts are sent as written, never changed by the tenant's smart encoding. */
function ExactField(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      example: false,
      description:
        "send the texts exactly as written: the tenant's smart_encoding never changes them (default false)",
    })(target, key);
    IsOptional()(target, key);
    IsBoolean()(target, key);
  };
}

const TEMPLATE_CHANNEL =
  'the channel its sends take unless a send names one: sms (default), whatsapp (with content_sid: the approved template sent outside the session window) or mms (a send gives media_urls). See docs/sending.md, Channels';

export class CreateTemplateDto {
  @ApiProperty({ example: 'welcome_message', description: 'slug: a-z, 0-9, _ and -' })
  @Matches(SLUG, { message: 'template_id must be a slug of a-z, 0-9, _ and - (at most 100)' })
  template_id: string;

  @ApiProperty({ example: 'Welcome Message' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ example: 'Welcome {{name}}! Your account has been created.' })
  @IsString()
  @Length(1, MAX_CONTENT)
  content_en: string;

  @ApiPropertyOptional({ example: 'Hoş geldiniz {{name}}! Hesabınız oluşturuldu.' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_CONTENT)
  content_tr?: string;

  @ApiProperty({ type: String, example: 'welcome_message', description: TYPE_DESCRIPTION })
  @Matches(MESSAGE_TYPE_PATTERN, { message: TYPE_MESSAGE })
  message_type: MessageType;

  @TransactionalField() transactional?: boolean;

  @ExactField() exact?: boolean;
  @ValiditySecondsField(TEMPLATE_VALIDITY) validity_seconds?: number | null;
  @ChannelField(TEMPLATE_CHANNEL) channel?: Channel;
  @ContentSidField() content_sid?: string;

  @ApiProperty({ example: ['name'], description: 'every placeholder used, exactly' })
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'variables must not repeat a name' })
  @Matches(NAME, { each: true, message: 'each variable must be a name of letters, digits and _' })
  variables: string[];
}

/** PUT: the whole template but its id. */
export class ReplaceTemplateDto {
  @ApiProperty({ example: 'Welcome Message' }) @IsString() @Length(1, 200) name: string;
  @ApiProperty({ example: 'Welcome {{name}}! Your account is ready.' })
  @IsString()
  @Length(1, MAX_CONTENT)
  content_en: string;
  @ApiPropertyOptional({
    example: 'Hoş geldiniz {{name}}! Hesabınız hazır.',
    description: 'omitted: the Turkish text stays as it is',
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_CONTENT)
  content_tr?: string;
  @ApiProperty({ type: String, example: 'welcome_message', description: TYPE_DESCRIPTION })
  @Matches(MESSAGE_TYPE_PATTERN, { message: TYPE_MESSAGE })
  message_type: MessageType;
  @TransactionalField() transactional?: boolean;
  @ExactField() exact?: boolean;
  @ValiditySecondsField(TEMPLATE_VALIDITY) validity_seconds?: number | null;
  @ChannelField(TEMPLATE_CHANNEL) channel?: Channel;
  @ContentSidField() content_sid?: string;
  @ApiProperty({ example: ['name'], description: 'every placeholder used, exactly' })
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'variables must not repeat a name' })
  @Matches(NAME, { each: true, message: 'each variable must be a name of letters, digits and _' })
  variables: string[];
}

/** PATCH: any subset. */
export class PatchTemplateDto {
  @ApiPropertyOptional({ example: 'Welcome' }) @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_CONTENT) content_en?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_CONTENT) content_tr?: string;
  @ApiPropertyOptional({ type: String, description: TYPE_DESCRIPTION })
  @IsOptional()
  @Matches(MESSAGE_TYPE_PATTERN, { message: TYPE_MESSAGE })
  message_type?: MessageType;
  @TransactionalField() transactional?: boolean;
  @ExactField() exact?: boolean;
  @ValiditySecondsField(TEMPLATE_VALIDITY) validity_seconds?: number | null;
  @ChannelField(TEMPLATE_CHANNEL) channel?: Channel;
  @ContentSidField() content_sid?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'variables must not repeat a name' })
  @Matches(NAME, { each: true, message: 'each variable must be a name of letters, digits and _' })
  variables?: string[];
}

export class ListTemplatesQueryDto {
  @ApiPropertyOptional({ type: String, description: TYPE_DESCRIPTION })
  @IsOptional()
  @Matches(MESSAGE_TYPE_PATTERN, { message: TYPE_MESSAGE })
  message_type?: MessageType;
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  include_inactive?: boolean;
}

export class PreviewTemplateDto {
  @ApiPropertyOptional({ example: { name: 'Ayşe' } }) @IsOptional() @IsObject() variables?: Record<
    string,
    unknown
  >;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptional() @IsIn(LANGUAGES) language?: Language;
}

export class SendTemplatedDto {
  @ApiProperty({ example: '+12025550123' }) @IsString() @Length(1, 64) phone_number: string;
  @ApiProperty({ example: 'appointment_reminder' })
  @Matches(SLUG, { message: 'template_id must be a slug' })
  template_id: string;
  @ApiProperty({
    example: {
      date: 'March 15, 2024',
      time: '2:00 PM',
      trainer_name: 'John Doe',
      location: 'Training Room A',
    },
  })
  @IsObject()
  variables: Record<string, unknown>;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptional() @IsIn(LANGUAGES) language?: Language;
  @UserIdField()
  user_id?: string;
  @MetadataField() metadata?: Record<string, unknown>;
  @StatusCallbackUrlField() status_callback_url?: string;
  @ValiditySecondsField(
    "seconds the message may wait to be handed to a provider, from acceptance; past it the message ends `expired` (never sent, never charged). Wins over the template's `validity_seconds`; default: the template's, else a code's own lifetime for code templates, else none",
  )
  validity_seconds?: number | null;
  // channels (issue 25): the send's own wins over the template's channel and content_sid.
  @ChannelField() channel?: Channel;
  @MediaUrlsField() media_urls?: string[];
  @ContentSidField() content_sid?: string;
  @ContentVariablesField() content_variables?: Record<string, string>;
  @FallbackChannelField() fallback_channel?: 'sms';
}

export class TemplateResponseDto {
  @ApiProperty() template_id: string;
  @ApiProperty() name: string;
  @ApiProperty() message_type: string;
  @ApiProperty({ description: 'sent as transactional SMS (built-in types: by type; custom: as declared)' })
  transactional: boolean;
  @ApiProperty({
    description: "sent exactly as written: the tenant's smart_encoding never changes its texts",
  })
  exact: boolean;
  @ApiProperty({
    enum: ['off', 'lookalikes', 'transliterate'],
    description:
      "what smart encoding does to this template's messages: the tenant's smart_encoding, off when the template is exact or of a code type (password_reset, 2fa_code)",
  })
  smart_encoding: SmartEncodingMode;
  @ApiProperty() content_en: string;
  @ApiProperty({ type: String, nullable: true }) content_tr: string | null;
  @ApiProperty({ description: 'text per language code' }) content: Record<string, string>;
  @ApiProperty() variables: string[];
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: "the messages' validity period in seconds unless a send gives its own; null: none",
  })
  validity_seconds: number | null;
  @ApiProperty({ enum: CHANNELS, description: "its sends' channel unless a send names one" })
  channel: Channel;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'whatsapp: the approved Content API template (HX…)',
  })
  content_sid: string | null;
  @ApiProperty() is_active: boolean;
  @ApiProperty({ description: 'true for a built-in default' }) is_default: boolean;
  @ApiProperty() version: number;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class PreviewResponseDto {
  @ApiProperty({ description: 'the text as it would be sent (after smart encoding)' }) text: string;
  @ApiProperty({ enum: ['GSM-7', 'UCS-2'] }) encoding: string;
  @ApiProperty() segments: number;
  @ApiProperty() missing_variables: string[];
  @ApiProperty() language_used: string;
  @ApiPropertyOptional({
    type: SmartEncodingDto,
    description:
      "present only when the tenant's smart_encoding changes the text: its encoding and segments as written and as sent",
  })
  smart_encoding?: SmartEncodingDto;
}

/** `tenantSmartEncoding`: the tenant's `smart_encoding` setting (unset: the default). */
export function toTemplateResponse(t: SmsTemplateEntity, tenantSmartEncoding: unknown): TemplateResponseDto {
  return {
    template_id: t.templateId,
    name: t.name,
    message_type: t.messageType,
    transactional: isTransactional(t.messageType, t.transactional),
    exact: t.exact,
    smart_encoding: smartEncodingMode(tenantSmartEncoding, t),
    content_en: t.content.en,
    content_tr: t.content.tr ?? null,
    content: t.content,
    variables: t.variables,
    validity_seconds: t.validitySeconds,
    channel: t.channel,
    content_sid: t.contentSid,
    is_active: t.isActive,
    is_default: t.tenantId === null,
    version: t.version,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

export function contentOf(dto: { content_en?: string; content_tr?: string }): Record<string, string> {
  const content: Record<string, string> = {};
  if (dto.content_en !== undefined) content.en = dto.content_en;
  if (dto.content_tr !== undefined) content.tr = dto.content_tr;
  return content;
}
