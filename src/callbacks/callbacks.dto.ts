import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDate,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
} from 'class-validator';
import { ValidationFailedError } from '../common/errors';
import { WEBHOOK_EVENTS, WebhookEventType } from './events';
import { WebhookDelivery } from './deliveries.repository';
import { WebhookEndpoint } from './endpoints.service';
import { MAX_URL_LENGTH } from './url-policy';
import { PageCursorField, PageLimitField } from '../common/dto-fields';

export class CreateEndpointDto {
  @ApiProperty({ example: 'https://platform.example.com/sms/events', description: 'https; public address' })
  @IsString()
  @Length(1, MAX_URL_LENGTH)
  url: string;

  @ApiPropertyOptional({ example: 'platform status consumer' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  description?: string;

  @ApiPropertyOptional({
    enum: WEBHOOK_EVENTS,
    isArray: true,
    description:
      'events to receive; omitted or null: every event; []: none (the endpoint then only lends its secret to per-message status_callback_url callbacks)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(WEBHOOK_EVENTS.length)
  @IsIn(WEBHOOK_EVENTS, { each: true, message: `events must be among ${WEBHOOK_EVENTS.join(', ')}` })
  events?: WebhookEventType[] | null;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class EndpointDto {
  @ApiProperty() id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true, nullable: true, description: 'null: every event' })
  events: WebhookEventType[] | null;
  @ApiProperty() active: boolean;
  @ApiProperty({
    description:
      'paused after WEBHOOK_ENDPOINT_PAUSE_AFTER failed attempts in a row: it takes no delivery (they wait, and still expire 24 h after their event) until a replay of one of its deliveries or POST …/resume',
  })
  paused: boolean;
  @ApiProperty({ type: String, nullable: true }) paused_at: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '20 failed attempts in a row; the last: timeout after 5000 ms',
  })
  paused_reason: string | null;
  @ApiProperty({
    description:
      'failed attempts in a row (timeouts, errors, non-2xx answers); 0 after a success or a resume',
  })
  consecutive_failures: number;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'backed off after repeated failures: no delivery is sent to it before this time',
  })
  backoff_until: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class EndpointWithSecretDto extends EndpointDto {
  @ApiProperty({
    example: 'whsec_3q2+7w…',
    description: 'the signing secret: shown only in this answer (create, rotate); store it now',
  })
  secret: string;
}

export function toEndpointDto(e: WebhookEndpoint): EndpointDto {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events,
    active: e.active,
    paused: e.health.pausedAt !== null,
    paused_at: e.health.pausedAt?.toISOString() ?? null,
    paused_reason: e.health.pausedReason,
    consecutive_failures: e.health.consecutiveFailures,
    backoff_until: e.health.backoffUntil?.toISOString() ?? null,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}

export class DeliveriesQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'failed'] })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'failed'])
  status?: 'pending' | 'delivered' | 'failed';

  @ApiPropertyOptional({ enum: WEBHOOK_EVENTS })
  @IsOptional()
  @IsIn(WEBHOOK_EVENTS)
  event_type?: WebhookEventType;

  @ApiPropertyOptional() @IsOptional() @IsUUID() message_id?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() endpoint_id?: string;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z', description: 'created at or after' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'from must be an ISO 8601 date-time' })
  from?: Date;

  @ApiPropertyOptional({ example: '2026-02-01T00:00:00Z', description: 'created before' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO 8601 date-time' })
  to?: Date;

  @PageLimitField()
  limit?: number;

  @PageCursorField()
  cursor?: string;
}

export class DeliveryAttemptDto {
  @ApiProperty() at: string;
  @ApiProperty({ type: Number, nullable: true }) status_code: number | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty() duration_ms: number;
}

export class DeliveryDto {
  @ApiProperty() id: string;
  @ApiProperty() event_id: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS }) event_type: string;
  @ApiProperty({ type: String, nullable: true }) message_id: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'null: the message’s own status_callback_url' })
  endpoint_id: string | null;
  @ApiProperty() url: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: String, nullable: true, description: 'pending only' }) next_attempt_at: string | null;
  @ApiProperty({ type: String, nullable: true }) last_attempt_at: string | null;
  @ApiProperty({ type: Number, nullable: true }) last_status_code: number | null;
  @ApiProperty({ type: String, nullable: true }) last_error: string | null;
  @ApiProperty({ type: String, nullable: true }) delivered_at: string | null;
  @ApiProperty() created_at: string;
}

export class DeliveryDetailDto extends DeliveryDto {
  @ApiProperty({ type: [DeliveryAttemptDto] }) attempt_log: DeliveryAttemptDto[];
}

export class DeliveriesPageDto {
  @ApiProperty({ type: [DeliveryDto] }) items: DeliveryDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}

export function toDeliveryDto(d: WebhookDelivery): DeliveryDto {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    message_id: d.messageId,
    endpoint_id: d.endpointId,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    last_attempt_at: d.lastAttemptAt?.toISOString() ?? null,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    delivered_at: d.deliveredAt?.toISOString() ?? null,
    created_at: d.createdAt.toISOString(),
  };
}

export function encodeDeliveryCursor(d: WebhookDelivery): string {
  return Buffer.from(`${d.createdAt.toISOString()}|${d.id}`).toString('base64url');
}

export function decodeDeliveryCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at);
  if (extra !== undefined || !/^\d{1,18}$/.test(id ?? '') || Number.isNaN(date.getTime()))
    throw ValidationFailedError.field('cursor', 'cursor is not valid');
  return { createdAt: date, id };
}
