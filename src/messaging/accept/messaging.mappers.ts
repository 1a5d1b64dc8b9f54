import { ValidationFailedError } from '../../common/errors';
import { isSaneDate } from '../../common/validation';
import { messageFailure, routeNoteOf } from '../../providers';
import { SmsMessageEntity, SmsMessageEventEntity } from '../message.entity';
import type { WhatsappMode } from '../../core/channels';
import { AcceptResult } from './accept.types';
import {
  BulkResponseDto,
  MessageStatusDto,
  MessageSummaryDto,
  ScheduleResponseDto,
  SendResponseDto,
} from './messaging.dto';
import { smartEncodingField } from './smart-encoding.dto';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toSendResponse(r: AcceptResult): SendResponseDto {
  return {
    success: true,
    message_id: r.messages[0].id,
    status: r.status,
    segments: r.segments,
    encoding: r.encoding,
    estimated_cost: r.estimatedCost,
    currency: r.currency,
    ...smartEncodingField(r.smartEncoding),
    test_mode: r.testMode === true,
    channel: r.channel ?? 'sms',
    ...(r.messages[0].whatsappMode ? { whatsapp_mode: r.messages[0].whatsappMode } : {}),
  };
}

export function toScheduleResponse(r: AcceptResult): ScheduleResponseDto {
  return { ...toSendResponse(r), scheduled_time: (r.scheduledAt as Date).toISOString() };
}

export function toBulkResponse(r: AcceptResult): BulkResponseDto {
  return {
    success: true,
    batch_id: r.batchId as string,
    accepted: r.messages.length,
    rejected: r.rejected,
    message_ids: r.messages.map((m) => m.id),
    segments: r.segments,
    encoding: r.encoding,
    estimated_cost: r.estimatedCost,
    currency: r.currency,
    ...smartEncodingField(r.smartEncoding),
    test_mode: r.testMode === true,
    channel: r.channel ?? 'sms',
    ...(r.channel === 'whatsapp' ? { whatsapp_modes: countModes(r) } : {}),
  };
}

/** channels (issue 25): how many messages of a bulk go in each WhatsApp form. */
function countModes(r: AcceptResult): Partial<Record<WhatsappMode, number>> {
  const counts: Partial<Record<WhatsappMode, number>> = {};
  for (const m of r.messages) if (m.whatsappMode) counts[m.whatsappMode] = (counts[m.whatsappMode] ?? 0) + 1;
  return counts;
}

/** channels (issue 25): a message's channel columns as status and history show them. */
function channelColumns(m: SmsMessageEntity) {
  return {
    channel: m.channel,
    whatsapp_mode: m.whatsappMode,
    media_urls: m.channelParams?.media_urls ?? null,
    content_sid: m.channelParams?.content_sid ?? null,
    fallback_channel: m.fallbackChannel,
    fallback_reason: m.fallbackReason,
    fallback_message_id: m.fallbackMessageId,
    fallback_of: m.fallbackOf,
  };
}

export function toMessageStatus(m: SmsMessageEntity, events: SmsMessageEventEntity[]): MessageStatusDto {
  return {
    message_id: m.id,
    status: m.status,
    provider: m.provider,
    provider_message_id: m.providerMessageId,
    sender: m.sender,
    attempts: m.attempts,
    error_code: m.errorCode,
    error_message: m.errorMessage,
    failure: messageFailure(m.status, m.errorCode),
    segments: m.segments,
    encoding: m.encoding,
    cost: m.cost,
    estimated_cost: m.estimatedCost,
    currency: m.currency,
    created_at: m.createdAt.toISOString(),
    scheduled_at: iso(m.scheduledAt),
    expires_at: iso(m.expiresAt),
    sent_at: iso(m.sentAt),
    delivered_at: iso(m.deliveredAt),
    test_mode: m.testMode,
    converted_at: iso(m.convertedAt),
    ...channelColumns(m),
    events: events.map((e) => {
      const route = routeNoteOf(e.payload);
      return { status: e.status, at: e.at.toISOString(), source: e.source, ...(route ? { route } : {}) };
    }),
  };
}

export function toMessageSummary(m: SmsMessageEntity): MessageSummaryDto {
  return {
    message_id: m.id,
    phone_number: m.phoneNumber,
    body: m.body,
    message_type: m.messageType,
    language: m.language,
    template_id: m.templateId,
    variant: m.variant,
    user_id: m.userId,
    created_by: m.createdBy,
    status: m.status,
    provider: m.provider,
    sender: m.sender,
    segments: m.segments,
    encoding: m.encoding,
    estimated_cost: m.estimatedCost,
    cost: m.cost,
    currency: m.currency,
    batch_id: m.batchId,
    campaign_id: m.campaignId,
    error_code: m.errorCode,
    failure: messageFailure(m.status, m.errorCode),
    created_at: m.createdAt.toISOString(),
    scheduled_at: iso(m.scheduledAt),
    expires_at: iso(m.expiresAt),
    sent_at: iso(m.sentAt),
    delivered_at: iso(m.deliveredAt),
    test_mode: m.testMode,
    converted_at: iso(m.convertedAt),
    ...channelColumns(m),
    metadata: m.metadata,
  };
}

/** Keyset cursor: the (created_at, id) of the last row of a page. */
export function encodeCursor(m: SmsMessageEntity): string {
  return Buffer.from(`${m.createdAt.toISOString()}|${m.id}`).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at);
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime()) || !isSaneDate(createdAt))
    throw ValidationFailedError.field('cursor', 'cursor is not valid');
  return { createdAt, id };
}
