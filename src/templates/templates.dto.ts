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
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
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
import { MAX_VARIANT_WEIGHT, MAX_VARIANTS, TemplateVariant, VARIANT_KEY } from './variant-rules';

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

/** One A/B variant of a template (issue 25): a key, a weight and a body per language of the template. */
export class TemplateVariantDto {
  @ApiProperty({ example: 'A', description: 'unique within the template: 1 to 32 of A-Z, a-z, 0-9, _ and -' })
  @IsString()
  @Matches(VARIANT_KEY, { message: 'key must be 1 to 32 of A-Z, a-z, 0-9, _ and -' })
  key: string;

  @ApiProperty({
    example: 50,
    description: `a positive integer (1 to ${MAX_VARIANT_WEIGHT}); the variant's share of recipients is its weight over the sum`,
  })
  @IsInt({ message: 'weight must be a positive integer' })
  @Min(1, { message: 'weight must be a positive integer' })
  @Max(MAX_VARIANT_WEIGHT)
  weight: number;

  @ApiProperty({
    example: 'Welcome {{name}}! Your account is ready.',
    description: "the same placeholders as the template's variables",
  })
  @IsString()
  @Length(1, MAX_CONTENT)
  content_en: string;

  @ApiPropertyOptional({
    example: 'Hoş geldiniz {{name}}! Hesabınız hazır.',
    description: 'required when the template has a Turkish text, not allowed otherwise',
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_CONTENT)
  content_tr?: string;
}

/** `variants`: an A/B test's bodies; null ends the test; omitted on PUT/PATCH: unchanged. */
function VariantsField(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      type: [TemplateVariantDto],
      nullable: true,
      description: `A/B variants (2 to ${MAX_VARIANTS}): each send or campaign recipient gets one by a stable hash of the test and their number, in proportion to the weights; null ends the test; omitted on PUT/PATCH: unchanged. A change of keys or weights starts a new test (docs/templates.md, A/B variants)`,
    })(target, key);
    IsOptional()(target, key);
    IsArray()(target, key);
    ArrayMaxSize(MAX_VARIANTS)(target, key);
    ValidateNested({ each: true })(target, key);
    Type(() => TemplateVariantDto)(target, key);
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
  @VariantsField() variants?: TemplateVariantDto[] | null;
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
  @VariantsField() variants?: TemplateVariantDto[] | null;
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
  @VariantsField() variants?: TemplateVariantDto[] | null;
  @ChannelField(TEMPLATE_CHANNEL) channel?: Channel;
  @ContentSidField({ clearable: true }) content_sid?: string | null;
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
  @ApiPropertyOptional({
    example: 'B',
    description: "a running A/B variant's key: preview its text instead of the template's",
  })
  @IsOptional()
  @Matches(VARIANT_KEY, { message: 'variant must be a variant key' })
  variant?: string;
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

export class TemplateVariantResponseDto {
  @ApiProperty({ example: 'A' }) key: string;
  @ApiProperty({ example: 50 }) weight: number;
  @ApiProperty() content_en: string;
  @ApiProperty({ type: String, nullable: true }) content_tr: string | null;
  @ApiProperty({ description: 'text per language code' }) content: Record<string, string>;
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
  @ApiProperty({
    type: [TemplateVariantResponseDto],
    nullable: true,
    description: "the running A/B test's variants; null: no test",
  })
  variants: TemplateVariantResponseDto[] | null;
  @ApiProperty({ type: String, nullable: true, description: "the running (or last) A/B test's id" })
  variant_test_id: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'when the running A/B test began; null: no test',
  })
  variants_started_at: string | null;
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
    variants:
      t.variants?.map((v) => ({
        key: v.key,
        weight: v.weight,
        content_en: v.content.en,
        content_tr: v.content.tr ?? null,
        content: v.content,
      })) ?? null,
    variant_test_id: t.variantTestId ?? null,
    variants_started_at: t.variants && t.variantsStartedAt ? t.variantsStartedAt.toISOString() : null,
    channel: t.channel,
    content_sid: t.contentSid,
    is_active: t.isActive,
    is_default: t.tenantId === null,
    version: t.version,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

/** The variants as stored: null ends the test, undefined leaves it (PUT/PATCH). */
export function variantsOf(dto: {
  variants?: TemplateVariantDto[] | null;
}): TemplateVariant[] | null | undefined {
  if (dto.variants === undefined || dto.variants === null) return dto.variants;
  return dto.variants.map((v) => ({ key: v.key, weight: v.weight, content: contentOf(v) }));
}

export function contentOf(dto: { content_en?: string; content_tr?: string }): Record<string, string> {
  const content: Record<string, string> = {};
  if (dto.content_en !== undefined) content.en = dto.content_en;
  if (dto.content_tr !== undefined) content.tr = dto.content_tr;
  return content;
}

export class VariantSignificanceDto {
  @ApiProperty({ type: String, nullable: true, description: 'the variant with the highest rate' }) leader:
    string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the best of the others, the leader is tested against',
  })
  runner_up: string | null;
  @ApiProperty({ description: 'two-proportion z statistic (pooled), leader against runner-up' }) z: number;
  @ApiProperty({ description: 'two-sided p-value' }) p_value: number;
  @ApiProperty({ description: 'both have at least min_sample messages and p < alpha' }) significant: boolean;
  @ApiProperty({ description: 'both have at least min_sample messages' }) enough_data: boolean;
  @ApiProperty({ example: 0.05 }) alpha: number;
  @ApiProperty({ example: 100 }) min_sample: number;
  @ApiProperty({
    example: 'B wins on converted: higher than A (two-proportion z-test, z = 2.19, p = 0.0287 < 0.05)',
  })
  note: string;
}

export class VariantOutcomeDto {
  @ApiProperty({ example: 'A' }) key: string;
  @ApiProperty({ example: 50 }) weight: number;
  @ApiProperty({ description: 'messages accepted with this variant since the test began' }) messages: number;
  @ApiProperty() delivered: number;
  @ApiProperty({ type: Number, nullable: true, description: 'delivered / messages; null without messages' })
  delivery_rate: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "messages with a click on a tracked link (the tenant's link_tracking)",
  })
  clicked: number | null;
  @ApiProperty({ type: Number, nullable: true }) click_rate: number | null;
  @ApiProperty({ description: "messages whose code was verified (converted_at): codes' conversions" })
  converted: number;
  @ApiProperty({ type: Number, nullable: true, description: 'converted / messages' }) conversion_rate:
    number | null;
  @ApiProperty({ type: String, nullable: true, example: '0.3950', description: 'charged by providers' })
  cost: string | null;
  @ApiProperty({ type: String, nullable: true, example: '0.4000' }) estimated_cost: string | null;
}

export class VariantStatsResponseDto {
  @ApiProperty() template_id: string;
  @ApiProperty({ description: 'a test is running (the template has variants)' }) running: boolean;
  @ApiProperty({ type: String, nullable: true }) test_id: string | null;
  @ApiProperty({ type: String, nullable: true }) started_at: string | null;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({ type: [VariantOutcomeDto] }) variants: VariantOutcomeDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'the variant that wins significantly, on conversions first, then clicks, then delivery; null: none yet',
  })
  winner: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['converted', 'clicked', 'delivered'] }) winner_metric:
    'converted' | 'clicked' | 'delivered' | null;
  @ApiProperty({ type: VariantSignificanceDto }) delivered: VariantSignificanceDto;
  @ApiProperty({ type: VariantSignificanceDto }) converted: VariantSignificanceDto;
  @ApiProperty({ type: VariantSignificanceDto, description: 'first clicks on tracked links' })
  clicked: VariantSignificanceDto;
}
