import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
  Max,
  Min,
} from 'class-validator';
import { ValidationFailedError } from '../common/errors';
import { LANGUAGES } from '../core/message-types';
import { Consent, CONSENT_STATUSES, UNKNOWN_CONSENT } from '../messaging';
import { MAX_RECIPIENTS_PER_PUT } from './recipient-rules';
import { Recipient } from './recipients.service';
import { PageCursorField } from '../common/dto-fields';

export class ChannelConsentInputDto {
  @ApiProperty({ enum: CONSENT_STATUSES, example: 'granted' }) status: string;
  @ApiPropertyOptional({
    example: 'HS_WEB',
    description:
      'where it was given (1-64 of A-Z a-z 0-9 _ . : -); İYS source codes (HS_WEB, HS_FIZIKSEL_ORTAM, ...) are exported as such; default api; sms_keyword is kept for STOP/START texts',
  })
  source?: string;
  @ApiPropertyOptional({
    example: '2026-12-01T09:30:00+03:00',
    description: 'when it was given (ISO 8601 with offset, not in the future); default now',
  })
  at?: string;
}

export class ConsentInputDto {
  @ApiProperty({ type: ChannelConsentInputDto }) sms: ChannelConsentInputDto;
}

export class RecipientDto {
  @ApiProperty({ example: '4711', description: "the platform's user id (1-64 characters)" }) user_id: string;
  @ApiProperty({ example: '+905321234567', description: 'E.164, or national in DEFAULT_COUNTRY_CODE' })
  phone_number: string;
  @ApiPropertyOptional({ example: ['beneficiary'], type: [String] }) roles?: string[];
  @ApiPropertyOptional({
    type: String,
    enum: LANGUAGES,
    nullable: true,
    description: "absent: the tenant's default",
  })
  language?: string | null;
  @ApiPropertyOptional({
    type: String,
    example: 'Europe/Istanbul',
    nullable: true,
    description: 'IANA time zone',
  })
  timezone?: string | null;
  @ApiPropertyOptional({ example: ['ankara'], type: [String] }) tags?: string[];
  @ApiPropertyOptional({
    example: { name: 'Ayşe' },
    description: 'template variables of this recipient (text or numbers, ≤ 200 characters each)',
  })
  attributes?: Record<string, string | number>;
  @ApiPropertyOptional({ example: true, description: 'default true; inactive recipients are skipped' })
  active?: boolean;
  @ApiPropertyOptional({
    type: ConsentInputDto,
    description:
      "the number's consent for promotional texts, per channel (sms); absent: unchanged. A status equal to the stored one changes nothing; a bad value is a 400 naming the field (recipients[i].consent.sms.status)",
  })
  consent?: ConsentInputDto;
}

/** `PUT /api/sms/recipients/{user_id}/consent`: checked by the service (400 naming the field). */
export class PutConsentDto {
  @ApiProperty({ type: ChannelConsentInputDto })
  @IsObject()
  sms: ChannelConsentInputDto;
}

export class ChannelConsentDto {
  @ApiProperty({ enum: CONSENT_STATUSES, example: 'granted' }) status: string;
  @ApiProperty({ type: String, nullable: true, example: 'HS_WEB' }) source: string | null;
  @ApiProperty({ type: String, nullable: true, example: '2026-12-01T06:30:00.000Z' }) at: string | null;
}

export class ConsentDto {
  @ApiProperty({ type: ChannelConsentDto }) sms: ChannelConsentDto;
}

export class PutRecipientsDto {
  @ApiProperty({
    type: [RecipientDto],
    description: `up to ${MAX_RECIPIENTS_PER_PUT}; each row is checked on its own (a bad row is rejected by user_id, the rest stored)`,
  })
  @IsArray()
  @ArrayMaxSize(MAX_RECIPIENTS_PER_PUT)
  recipients: unknown[];
}

export class PutRecipientsResponseDto {
  @ApiProperty({ example: 2 }) upserted: number;
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: { user_id: { type: 'string', nullable: true }, reason: { type: 'string' } },
    },
    example: [{ user_id: '4713', reason: 'invalid_phone' }],
  })
  rejected: { user_id: string | null; reason: string }[];
}

export class ListRecipientsQueryDto {
  @ApiPropertyOptional({ example: 'beneficiary' }) @IsOptional() @IsString() @Length(1, 64) role?: string;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptional() @IsIn(LANGUAGES) language?: string;
  @ApiPropertyOptional({ example: 'ankara' }) @IsOptional() @IsString() @Length(1, 64) tag?: string;
  @PageCursorField()
  cursor?: string;
  @ApiPropertyOptional({ example: 100, description: '1-1000, default 100' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class RecipientResponseDto {
  @ApiProperty({ example: '4711' }) user_id: string;
  @ApiProperty({ example: '+905321234567' }) phone_number: string;
  @ApiProperty({ type: [String] }) roles: string[];
  @ApiProperty({ type: String, nullable: true, description: "null: the tenant's default" }) language:
    string | null;
  @ApiProperty({ type: String, nullable: true }) timezone: string | null;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ type: Object }) attributes: Record<string, string | number>;
  @ApiProperty() active: boolean;
  @ApiProperty({
    type: ConsentDto,
    description:
      "the number's consent for promotional texts (kept by number: entries sharing a number share it)",
  })
  consent: ConsentDto;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class RecipientPageDto {
  @ApiProperty({ type: [RecipientResponseDto] }) items: RecipientResponseDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}

export function toRecipientResponse(r: Recipient): RecipientResponseDto {
  return {
    user_id: r.userId,
    phone_number: r.phoneNumber,
    roles: r.roles,
    language: r.language,
    timezone: r.timezone,
    tags: r.tags,
    attributes: r.attributes,
    active: r.active,
    consent: { sms: toConsentDto(r.consent?.sms ?? UNKNOWN_CONSENT) },
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

function toConsentDto(c: Consent): ChannelConsentDto {
  return { status: c.status, source: c.source, at: c.at?.toISOString() ?? null };
}

/** Keyset cursor: base64url of the last user_id of a page. */
export function encodeUserCursor(userId: string): string {
  return Buffer.from(`u|${userId}`).toString('base64url');
}

export function decodeUserCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('u|') || text.length < 3 || text.length > 66)
    throw ValidationFailedError.field('cursor', 'cursor is not valid');
  return text.slice(2);
}
