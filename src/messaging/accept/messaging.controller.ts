import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors';
import { CurrentPrincipal } from '../../auth/decorators';
import { Principal } from '../../auth/principal';
import { ValidationFailedError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { PhoneService } from '../../phone';
import { MessageType } from '../../core/message-types';
import {
  BulkResponseDto,
  HistoryQueryDto,
  HistoryResponseDto,
  MessageStatusDto,
  ScheduleResponseDto,
  ScheduleSmsDto,
  SendBulkDto,
  SendResponseDto,
  SendSmsDto,
} from './messaging.dto';
import {
  decodeCursor,
  encodeCursor,
  toBulkResponse,
  toMessageStatus,
  toMessageSummary,
  toScheduleResponse,
  toSendResponse,
} from './messaging.mappers';
import { AcceptService } from './accept.service';
import { SendContext } from './accept.types';
import { MessageQueriesService } from '../queries/message-queries.service';
import { AcceptedReply, Reply, SendCtx, SendRoute } from './send-route';
import { ApiBriefBody } from '../../openapi/examples';

import { ChannelFieldsDto, channelInput } from './channel.fields';
@ApiTags('messages')
@ApiErrors()
@ApiBearerAuth()
@Controller('api/sms')
export class MessagingController {
  constructor(
    private readonly accepting: AcceptService,
    private readonly queries: MessageQueriesService,
    private readonly phone: PhoneService,
    private readonly config: AppConfig,
  ) {}

  @Post('send')
  @ApiOperation({
    summary: 'Send one SMS',
    description:
      "Validates the number (E.164 or national), checks opt-outs, the tenant's allowed countries and the rate limit, stores the message and queues it for the provider (Twilio, then AWS SNS). 202 with the message id; follow delivery on /messages/{id}/status.",
  })
  @SendRoute(SendResponseDto)
  @ApiBriefBody(SendSmsDto, 'send')
  async send(
    @SendCtx() ctx: SendContext,
    @Body() dto: SendSmsDto,
    @Reply() reply: AcceptedReply,
  ): Promise<SendResponseDto> {
    const accepted = await this.accepting.accept(ctx, {
      ...this.common(dto),
      recipients: [dto.phone_number],
      body: dto.message,
      mode: 'single',
    });
    return reply.present(accepted, toSendResponse);
  }

  @Post('send-bulk')
  @ApiOperation({
    summary: 'Send one SMS to many numbers',
    description:
      'Each number is validated on its own: the valid ones are sent (once each), the others listed in `rejected` with the reason. 400 only when none remains; at most SMS_BULK_MAX numbers.',
  })
  @SendRoute(BulkResponseDto)
  @ApiBriefBody(SendBulkDto, 'sendBulk')
  async sendBulk(
    @SendCtx() ctx: SendContext,
    @Body() dto: SendBulkDto,
    @Reply() reply: AcceptedReply,
  ): Promise<BulkResponseDto> {
    const max = this.config.get('SMS_BULK_MAX');
    if (dto.phone_numbers.length > max) {
      throw ValidationFailedError.field(
        'phone_numbers',
        `phone_numbers has ${dto.phone_numbers.length} entries; at most ${max} (SMS_BULK_MAX)`,
      );
    }
    const accepted = await this.accepting.accept(ctx, {
      ...this.common(dto),
      recipients: dto.phone_numbers,
      body: dto.message,
      mode: 'bulk',
    });
    return reply.present(accepted, toBulkResponse);
  }

  @Post('schedule')
  @ApiOperation({
    summary: 'Schedule an SMS',
    description:
      'As /send, sent at `scheduled_time` (ISO 8601 with an offset, in the future, at most 35 days ahead). Cancel it with DELETE /messages/{id} until then.',
  })
  @SendRoute(ScheduleResponseDto)
  @ApiBriefBody(ScheduleSmsDto, 'schedule')
  async schedule(
    @SendCtx() ctx: SendContext,
    @Body() dto: ScheduleSmsDto,
    @Reply() reply: AcceptedReply,
  ): Promise<ScheduleResponseDto> {
    const accepted = await this.accepting.accept(ctx, {
      ...this.common(dto),
      recipients: [dto.phone_number],
      body: dto.message,
      scheduledAt: dto.scheduled_time,
      mode: 'single',
    });
    return reply.present(accepted, toScheduleResponse);
  }

  @Get('messages/:id/status')
  @ApiOperation({
    summary: "Get a message's status",
    description:
      "Status, provider, attempts, cost and the timeline of events. A user sees their own messages; an admin the tenant's.",
  })
  @ApiOkResponse({ type: MessageStatusDto })
  async status(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<MessageStatusDto> {
    const { message, events } = await this.queries.get(p, id);
    return toMessageStatus(message, events);
  }

  @Delete('messages/:id')
  @ApiOperation({
    summary: 'Cancel a message',
    description: 'Cancels a scheduled or queued message (204). 409 once a provider may already have it.',
  })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'canceled; 409 when a provider may already have it' })
  async cancel(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.queries.cancel(p, id);
  }

  @Get('history')
  @ApiOperation({
    summary: 'List messages',
    description:
      'Newest first, filtered; `limit` at most 200 (default 50). Pass `next_cursor` as `cursor` for the next page.',
  })
  @ApiOkResponse({ type: HistoryResponseDto })
  async history(@CurrentPrincipal() p: Principal, @Query() q: HistoryQueryDto): Promise<HistoryResponseDto> {
    const limit = q.limit ?? 50;
    const rows = await this.queries.history(p, {
      userId: q.user_id,
      status: q.status,
      messageType: q.message_type,
      // Stored numbers are E.164: look up what the caller wrote the same way.
      phoneNumber:
        q.phone_number === undefined ? undefined : (this.phone.toE164(q.phone_number) ?? q.phone_number),
      from: q.from,
      to: q.to,
      batchId: q.batch_id,
      campaignId: q.campaign_id,
      channel: q.channel,
      before: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(toMessageSummary),
      next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null,
    };
  }

  private common(
    dto: {
      message_type?: MessageType;
      language?: 'en' | 'tr';
      user_id?: string;
      metadata?: Record<string, unknown>;
      status_callback_url?: string;
      validity_seconds?: number | null;
    } & ChannelFieldsDto,
  ) {
    return {
      ...channelInput(dto), // channels (issue 25)
      messageType: dto.message_type ?? ('general_notification' as const),
      language: dto.language ?? ('en' as const),
      userId: dto.user_id ?? null,
      metadata: dto.metadata,
      statusCallbackUrl: dto.status_callback_url ?? null,
      validitySeconds: dto.validity_seconds ?? null,
    };
  }
}
