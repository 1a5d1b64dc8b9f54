import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { DateTimeWithOffset, PageCursorField, PageLimitField } from '../common/dto-fields';
import { ValidationFailedError } from '../common/errors';
import type { InboundRow } from './inbound.repository';

const KEYWORDS = ['stop', 'start', 'help', 'none'] as const;

export class InboundQueryDto {
  @ApiPropertyOptional({ description: 'the sender (E.164)', example: '+12025550123' })
  @IsOptional()
  @IsString()
  @Matches(/^\+?[0-9A-Za-z]{2,20}$/, { message: 'from must be a phone number (E.164) or sender id' })
  from?: string;

  @ApiPropertyOptional({ enum: KEYWORDS, description: 'none: texts that were no keyword' })
  @IsOptional()
  @IsIn(KEYWORDS)
  keyword?: (typeof KEYWORDS)[number];

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z', description: 'received at or after' })
  @IsOptional()
  @DateTimeWithOffset()
  since?: Date;

  @ApiPropertyOptional({ example: '2026-02-01T00:00:00Z', description: 'received before' })
  @IsOptional()
  @DateTimeWithOffset()
  until?: Date;

  @PageLimitField()
  limit?: number;

  @PageCursorField()
  cursor?: string;
}

export class InboundMessageDto {
  @ApiProperty({ example: '1287' }) id: string;
  @ApiProperty({ example: '+12025550123' }) from: string;
  @ApiProperty({ example: '+15005550006', description: 'our number that received it' }) to: string;
  @ApiProperty() body: string;
  @ApiProperty({ example: 'twilio' }) provider: string;
  @ApiProperty() provider_message_id: string;
  @ApiProperty({ type: String, enum: ['stop', 'start', 'help'], nullable: true }) keyword: string | null;
  @ApiProperty({ type: String, enum: ['en', 'tr'], nullable: true, description: "the keyword's language" })
  language: string | null;
  @ApiProperty({ example: '2026-01-15T10:00:00.000Z' }) received_at: string;
  @ApiProperty({
    enum: ['sms', 'whatsapp'],
    description: 'whatsapp: a WhatsApp message (it opens the 24-hour session window)',
  })
  channel: 'sms' | 'whatsapp';
}

export class InboundPageDto {
  @ApiProperty({ type: [InboundMessageDto] }) items: InboundMessageDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}

export function toInboundMessage(r: InboundRow): InboundMessageDto {
  return {
    id: r.id,
    from: r.from,
    to: r.to,
    body: r.body,
    provider: r.provider,
    provider_message_id: r.providerMessageId,
    keyword: r.keyword,
    language: r.language,
    received_at: r.receivedAt.toISOString(),
    channel: r.channel,
  };
}

const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31);

export function checkInboundDate(field: string, d: Date | undefined): void {
  if (d !== undefined && !(d.getTime() >= MIN_TIME && d.getTime() <= MAX_TIME))
    throw ValidationFailedError.field(field, `${field} must be between 1970 and 9999`);
}

/** Keyset cursor: base64url of `<received_at ISO>|<id>` of a page's last row. */
export function encodeInboundCursor(r: InboundRow): string {
  return Buffer.from(`${r.receivedAt.toISOString()}|${r.id}`).toString('base64url');
}

export function decodeInboundCursor(cursor: string): { at: Date; id: string } {
  const [at, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at);
  if (extra !== undefined || !/^\d{1,18}$/.test(id ?? '') || Number.isNaN(date.getTime()))
    throw ValidationFailedError.field('cursor', 'cursor is not valid');
  checkInboundDate('cursor', date);
  return { at: date, id };
}
