import {
  ApiExtraModels,
  ApiHideProperty,
  ApiProperty,
  ApiPropertyOptional,
  getSchemaPath,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  ValidationArguments,
} from 'class-validator';
import { allowedCountriesProblem } from '../core/countries';
import { MESSAGE_TYPE_PATTERN } from '../core/message-types';
import { tenantKeywordsProblem } from '../core/keywords';
import { SMART_ENCODING_MODES, SmartEncodingMode } from '../core/smart-encoding';
import { SenderSettings, sendersProblem } from '../core/sender-identity';
import { TenantEntity } from './tenant.entity';

const WHATSAPP_FALLBACK_MESSAGE =
  'whatsapp_fallback_seconds must be a whole number of seconds from 5 to 86400, or null';
const BODY_RETENTION_MESSAGE = 'body_retention_days must be a whole number of days from 1 to 3650, or null';

/** `allowed_countries`: known upper-case ISO codes, or "*" alone (the rule lives with the policy). */
@ValidatorConstraint({ name: 'allowedCountries' })
class AllowedCountriesRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return allowedCountriesProblem(value) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    return allowedCountriesProblem(args.value) ?? 'allowed_countries is not valid';
  }
}

/** `inbound_keywords`: stop/start/help lists of words that clash with no built-in keyword. */
@ValidatorConstraint({ name: 'inboundKeywords' })
class InboundKeywordsRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return tenantKeywordsProblem(value) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    return tenantKeywordsProblem(args.value) ?? 'inbound_keywords is not valid';
  }
}

/** `quiet_hours` {start, end} as HH:MM, different; null clears. */
@ValidatorConstraint({ name: 'quietHours' })
class QuietHoursRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (value === null) return true;
    if (typeof value !== 'object' || Array.isArray(value)) return false;
    const q = value as Record<string, unknown>;
    const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
    return (
      Object.keys(q).every((k) => k === 'start' || k === 'end') &&
      typeof q.start === 'string' &&
      typeof q.end === 'string' &&
      hhmm.test(q.start) &&
      hhmm.test(q.end) &&
      q.start !== q.end
    );
  }

  defaultMessage(): string {
    return 'quiet_hours must be {"start": "HH:MM", "end": "HH:MM"} with different times';
  }
}

/** An IANA time zone name. */
@ValidatorConstraint({ name: 'timeZone' })
class TimeZoneRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (value === null) return true;
    if (typeof value !== 'string' || value.length > 64) return false;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }

  defaultMessage(): string {
    return 'timezone must be an IANA time zone such as Europe/Istanbul';
  }
}

/** `senders`: country (or "*") → one sender of a valid form; alphanumeric never where it is forbidden. */
@ValidatorConstraint({ name: 'senders' })
class SendersRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return sendersProblem(value) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    const problem = sendersProblem(args.value);
    if (problem === null) return `${args.property} is not valid`;
    return `${[args.property, problem.path].filter(Boolean).join('.')} ${problem.message}`;
  }
}

/** One sender identity: exactly one of the three. */
export class SenderDto {
  @ApiPropertyOptional({
    description: '1-11 of A-Z a-z 0-9 and space, at least one letter; refused for US, CA and CN',
    example: 'OKULUM',
  })
  alphanumeric?: string;

  @ApiPropertyOptional({ description: 'a number in E.164', example: '+12025550100' })
  number?: string;

  @ApiPropertyOptional({
    description: 'a Twilio Messaging Service SID (MG + 32 lower-case hex digits)',
    example: 'MG0123456789abcdef0123456789abcdef',
  })
  messaging_service_sid?: string;
}

const SENDERS_EXAMPLE = { TR: { alphanumeric: 'OKULUM' }, '*': { number: '+12025550100' } };

/** The replacement of `alert_webhook_url`, named in the 400 that refuses it. */
export const ALERT_WEBHOOK_URL_RETIRED =
  'alert_webhook_url is no longer a setting: alerts are alert.raised webhook events; register an endpoint with POST /api/sms/webhook-endpoints {"url": "...", "events": ["alert.raised"]} (signed X-SMS-Signature: t=...,v1=... with the endpoint\'s secret)';

/** `alert_webhook_url`: refused whatever its value (null included). */
@ValidatorConstraint({ name: 'alertWebhookUrlRetired' })
class RetiredAlertWebhookUrlRule implements ValidatorConstraintInterface {
  validate(): boolean {
    return false;
  }

  defaultMessage(): string {
    return ALERT_WEBHOOK_URL_RETIRED;
  }
}

/** The providers a tenant may pin (`routing`). */
export const PINNABLE_PROVIDERS = ['twilio', 'sns'] as const;
type Pinnable = (typeof PINNABLE_PROVIDERS)[number];

/** What is wrong with `routing.pin_by_type`, or null. */
export function pinByTypeProblem(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    return 'routing.pin_by_type must be an object of message type → provider, e.g. {"password_reset": "twilio"}';
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 50) return 'routing.pin_by_type holds at most 50 message types';
  for (const [type, provider] of entries) {
    if (!MESSAGE_TYPE_PATTERN.test(type))
      return `routing.pin_by_type: ${JSON.stringify(type.slice(0, 60))} is not a message type (a built-in type or a lowercase slug)`;
    if (!(PINNABLE_PROVIDERS as readonly unknown[]).includes(provider))
      return `routing.pin_by_type.${type} must be one of ${PINNABLE_PROVIDERS.join(', ')}`;
  }
  return null;
}

@ValidatorConstraint({ name: 'pinByType' })
class PinByTypeRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return pinByTypeProblem(value) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    return pinByTypeProblem(args.value) ?? 'routing.pin_by_type is not valid';
  }
}

/**
 * `routing`: pin the provider tried first, for every message or per message type. Adaptive
 * routing does not move a pinned message; fallback to the other provider on a failure still
 * applies (docs/sending.md#adaptive-routing).
 */
export class TenantRoutingDto {
  @ApiPropertyOptional({
    enum: PINNABLE_PROVIDERS,
    nullable: true,
    description: 'every message of the tenant goes to this provider first; null removes the pin',
  })
  @IsOptional()
  @IsIn(PINNABLE_PROVIDERS, { message: `routing.pin must be one of ${PINNABLE_PROVIDERS.join(', ')}` })
  pin?: Pinnable | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', enum: [...PINNABLE_PROVIDERS] },
    nullable: true,
    example: { password_reset: 'twilio', general_notification: 'sns' },
    description: 'messages of these types go to their provider first (wins over pin)',
  })
  @IsOptional()
  @Validate(PinByTypeRule)
  pin_by_type?: Record<string, Pinnable> | null;
}

@ApiExtraModels(SenderDto)
export class TenantSettingsDto {
  @ApiPropertyOptional({ description: 'recipients per user per hour', example: 200 })
  @IsOptional()
  @IsInt()
  @Min(1)
  rate_limit?: number;

  @ApiPropertyOptional({ description: 'recipients per admin per hour', example: 2000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  admin_rate_limit?: number;

  @ApiPropertyOptional({ enum: ['en', 'tr'] })
  @IsOptional()
  @IsIn(['en', 'tr'])
  default_language?: 'en' | 'tr';

  @ApiPropertyOptional({ description: 'monthly cost that triggers an alert', example: 500 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  cost_alert_threshold?: number;

  @ApiPropertyOptional({
    description:
      'destination countries (ISO 3166 alpha-2) this tenant may send to, or ["*"] for every country; unset or null: DEFAULT_COUNTRY_CODE only',
    example: ['US', 'TR'],
    type: [String],
    nullable: true,
  })
  @IsOptional()
  @Validate(AllowedCountriesRule)
  allowed_countries?: string[] | null;

  /** Retired (alerts are webhook events): any value is refused, naming the endpoint API. */
  @ApiHideProperty()
  @ValidateIf((o: TenantSettingsDto) => o.alert_webhook_url !== undefined)
  @Validate(RetiredAlertWebhookUrlRule)
  alert_webhook_url?: unknown;

  @ApiPropertyOptional({
    description:
      'monthly spend cap in SMS_CURRENCY: a send whose estimate would take the month-to-date cost (actual where reported, else estimate) past it is refused with 402; null removes it',
    type: Number,
    example: 1000,
    nullable: true,
  })
  @IsOptional()
  @IsNumber({ maxDecimalPlaces: 6 })
  @Min(0)
  monthly_spend_cap?: number | null;

  @ApiPropertyOptional({
    description: "the tenant's own inbound keywords besides the built-in ones (replies in default_language)",
    example: { stop: ['DURDUR'], start: [], help: ['DESTEK'] },
  })
  @IsOptional()
  @Validate(InboundKeywordsRule)
  inbound_keywords?: { stop?: string[]; start?: string[]; help?: string[] };

  // Campaigns
  @ApiPropertyOptional({ description: 'campaign recipients per day (UTC); default 50000', example: 50000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  campaign_daily_limit?: number;

  @ApiPropertyOptional({
    example: { start: '21:00', end: '08:00' },
    nullable: true,
    description: 'promotional campaign messages due inside this window (recipient time) wait for its end',
  })
  @IsOptional()
  @Validate(QuietHoursRule)
  quiet_hours?: { start: string; end: string } | null;

  @ApiPropertyOptional({
    type: String,
    example: 'Europe/Istanbul',
    nullable: true,
    description: 'IANA zone for quiet hours',
  })
  @IsOptional()
  @Validate(TimeZoneRule)
  timezone?: string | null;

  @ApiPropertyOptional({
    example: false,
    description:
      'test mode: every message of the tenant goes to the sandbox only (test numbers give their outcome, other numbers are delivered), whatever provider is configured, and costs nothing; see docs/sending.md, Test numbers',
  })
  @IsOptional()
  @IsBoolean()
  test_mode?: boolean;

  @ApiPropertyOptional({
    example: true,
    description:
      'tracked links: http(s) URLs in message bodies become short links on this service (SMS_LINK_BASE_URL or PUBLIC_BASE_URL + /l/<code>, one per message and URL), counted in segments and cost; a click redirects (302) to the original URL and is counted once per message in GET /api/sms/links/stats. Never codes (password_reset, 2fa_code) nor templates marked exact. Unset: off. See docs/sending.md, Tracked links',
  })
  @IsOptional()
  @IsBoolean({ message: 'link_tracking must be a boolean' })
  link_tracking?: boolean;

  @ApiPropertyOptional({
    enum: SMART_ENCODING_MODES,
    nullable: true,
    example: 'transliterate',
    description:
      'characters written in GSM-7 before a message is measured and sent, when that makes the whole message GSM-7: off; lookalikes (default: curly quotes, dashes, odd spaces, ellipsis...); transliterate (also letters: Turkish ş ğ ı İ ç, accents). Never codes or templates marked exact. null: the default',
  })
  @IsOptional()
  @IsIn(SMART_ENCODING_MODES, { message: `smart_encoding must be one of ${SMART_ENCODING_MODES.join(', ')}` })
  smart_encoding?: SmartEncodingMode | null;

  @ApiPropertyOptional({
    enum: ['required', 'not_required'],
    nullable: true,
    example: 'required',
    description:
      'promotional messages (not transactional: general_notification, custom types whose template is not transactional) go only to numbers whose SMS consent is granted: required: every number; not_required: none; null or unset: Turkish (+90) numbers only. Others are refused no_consent; see docs/privacy.md',
  })
  @IsOptional()
  @IsIn(['required', 'not_required'], {
    message: 'promotional_consent must be one of required, not_required',
  })
  promotional_consent?: 'required' | 'not_required' | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(SenderDto) },
    nullable: true,
    example: SENDERS_EXAMPLE,
    description:
      'who messages come from, per destination country (upper-case ISO 3166 alpha-2; "*": every other country): an alphanumeric sender ID, a number or a Twilio Messaging Service SID; replaces the whole map; null or unset: the provider\'s configured default',
  })
  @IsOptional()
  @Validate(SendersRule)
  senders?: SenderSettings | null;

  @ApiPropertyOptional({
    type: TenantRoutingDto,
    nullable: true,
    description:
      'pin the provider tried first (replaces the whole object; null removes both pins); fallback on failure still applies',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => TenantRoutingDto)
  routing?: TenantRoutingDto | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: 3650,
    example: 30,
    description:
      "days after which the bodies of this tenant's messages and inbound texts are redacted by the daily retention job (status, cost and timing stay, and so do stats); null or unset: the service default SMS_BODY_RETENTION_DAYS (30 unless the operator changed it). See docs/privacy.md, Body retention",
  })
  @IsOptional()
  @IsInt({ message: BODY_RETENTION_MESSAGE })
  @Min(1, { message: BODY_RETENTION_MESSAGE })
  @Max(3650, { message: BODY_RETENTION_MESSAGE })
  body_retention_days?: number | null;

  // --- channels (issue 25) ---
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '+14155238886',
    description:
      "the tenant's own WhatsApp sender (E.164, a number enabled for Twilio's WhatsApp sender); null or unset: TWILIO_WHATSAPP_FROM. See docs/sending.md, Channels",
  })
  @IsOptional()
  @Matches(/^\+[1-9]\d{6,14}$/, { message: 'whatsapp_sender must be an E.164 number (+ and digits)' })
  whatsapp_sender?: string | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 5,
    maximum: 86400,
    example: 600,
    description:
      'seconds a WhatsApp message sent with fallback_channel "sms" waits for a delivery receipt before it goes out once as SMS; null or unset: SMS_WHATSAPP_FALLBACK_SECONDS',
  })
  @IsOptional()
  @IsInt({ message: WHATSAPP_FALLBACK_MESSAGE })
  @Min(5, { message: WHATSAPP_FALLBACK_MESSAGE })
  @Max(86400, { message: WHATSAPP_FALLBACK_MESSAGE })
  whatsapp_fallback_seconds?: number | null;
  // --- end channels ---
}

/** `PUT /api/sms/tenants/{id}/senders`: the whole map (null removes every sender). */
@ApiExtraModels(SenderDto)
export class TenantSendersDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(SenderDto) },
    nullable: true,
    example: SENDERS_EXAMPLE,
    description:
      'destination country (upper-case ISO 3166 alpha-2; "*": every other country) → its sender; null: none (the provider\'s configured default)',
  })
  @Validate(SendersRule)
  senders: SenderSettings | null;
}

export class CreateTenantDto {
  @ApiProperty({ example: 2 })
  @IsInt()
  @Min(1)
  @Max(2147483647)
  id: number;

  @ApiProperty({ example: 'Ankara Training Centre' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({ type: TenantSettingsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => TenantSettingsDto)
  settings?: TenantSettingsDto;
}

export class UpdateTenantDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ type: TenantSettingsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => TenantSettingsDto)
  settings?: TenantSettingsDto;
}

export class TenantResponseDto {
  @ApiProperty() id: number;
  @ApiProperty() name: string;
  @ApiProperty() active: boolean;
  @ApiProperty({ type: TenantSettingsDto }) settings: TenantSettingsDto;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export function toTenantResponse(t: TenantEntity): TenantResponseDto {
  return {
    id: t.id,
    name: t.name,
    active: t.active,
    settings: t.settings,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}
