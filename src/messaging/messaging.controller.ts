import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentPrincipal } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { ValidationFailedError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { PhoneService } from '../phone/phone.service';
import { MessageType } from './message-types';
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
import { Accepted, MessagingService, SendContext } from './messaging.service';
import { rateLimitHeaders } from './rate-limiter.service';

export const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description: 'same key + same body within 24 h returns the first response and sends nothing',
};

/** Builds the context every sending route passes on; validates the Idempotency-Key header. */
export function sendContext(
  principal: Principal,
  req: Request,
  key: string | undefined,
  body: unknown,
): SendContext {
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw ValidationFailedError.field(
      'Idempotency-Key',
      'Idempotency-Key must be 1-255 printable ASCII characters',
    );
  }
  return {
    principal,
    idempotencyKey: key,
    route: `${req.method} ${req.route?.path ?? req.path}`,
    requestBody: body,
  };
}

/** Sets rate-limit and replay headers, then returns the body. */
export function respond<B>(res: Response, accepted: Accepted<B>): B {
  if (accepted.rateLimit)
    for (const [k, v] of Object.entries(rateLimitHeaders(accepted.rateLimit))) res.setHeader(k, v);
  if (accepted.replayed) res.setHeader('Idempotent-Replayed', 'true');
  return accepted.body;
}

@ApiTags('messages')
@ApiBearerAuth()
@Controller('api/sms')
export class MessagingController {
  constructor(
    private readonly messaging: MessagingService,
    private readonly phone: PhoneService,
    private readonly config: AppConfig,
  ) {}

  @Post('send')
  @HttpCode(202)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiAcceptedResponse({ type: SendResponseDto })
  async send(
    @CurrentPrincipal() p: Principal,
    @Body() dto: SendSmsDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') key?: string,
  ): Promise<SendResponseDto> {
    const accepted = await this.messaging.accept(
      sendContext(p, req, key, dto),
      { ...this.common(dto), recipients: [dto.phone_number], body: dto.message, mode: 'single' },
      toSendResponse,
    );
    return respond(res, accepted);
  }

  @Post('send-bulk')
  @HttpCode(202)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiAcceptedResponse({ type: BulkResponseDto })
  async sendBulk(
    @CurrentPrincipal() p: Principal,
    @Body() dto: SendBulkDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') key?: string,
  ): Promise<BulkResponseDto> {
    const max = this.config.get('SMS_BULK_MAX');
    if (dto.phone_numbers.length > max) {
      throw ValidationFailedError.field(
        'phone_numbers',
        `phone_numbers has ${dto.phone_numbers.length} entries; at most ${max} (SMS_BULK_MAX)`,
      );
    }
    const accepted = await this.messaging.accept(
      sendContext(p, req, key, dto),
      { ...this.common(dto), recipients: dto.phone_numbers, body: dto.message, mode: 'bulk' },
      toBulkResponse,
    );
    return respond(res, accepted);
  }

  @Post('schedule')
  @HttpCode(202)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiAcceptedResponse({ type: ScheduleResponseDto })
  async schedule(
    @CurrentPrincipal() p: Principal,
    @Body() dto: ScheduleSmsDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') key?: string,
  ): Promise<ScheduleResponseDto> {
    const accepted = await this.messaging.accept(
      sendContext(p, req, key, dto),
      {
        ...this.common(dto),
        recipients: [dto.phone_number],
        body: dto.message,
        scheduledAt: dto.scheduled_time,
        mode: 'single',
      },
      toScheduleResponse,
    );
    return respond(res, accepted);
  }

  @Get('messages/:id/status')
  @ApiOkResponse({ type: MessageStatusDto })
  async status(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<MessageStatusDto> {
    const { message, events } = await this.messaging.get(p, id);
    return toMessageStatus(message, events);
  }

  @Delete('messages/:id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'canceled; 409 when a provider may already have it' })
  async cancel(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.messaging.cancel(p, id);
  }

  @Get('history')
  @ApiOkResponse({ type: HistoryResponseDto })
  async history(@CurrentPrincipal() p: Principal, @Query() q: HistoryQueryDto): Promise<HistoryResponseDto> {
    const limit = q.limit ?? 50;
    const rows = await this.messaging.history(p, {
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
      before: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(toMessageSummary),
      next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null,
    };
  }

  private common(dto: {
    message_type?: MessageType;
    language?: 'en' | 'tr';
    user_id?: string;
    metadata?: Record<string, unknown>;
  }) {
    return {
      messageType: dto.message_type ?? ('general_notification' as const),
      language: dto.language ?? ('en' as const),
      userId: dto.user_id ?? null,
      metadata: dto.metadata,
    };
  }
}
