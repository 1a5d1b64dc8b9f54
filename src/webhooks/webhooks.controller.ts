import {
  Body,
  Controller,
  ForbiddenException,
  Headers,
  HttpCode,
  NotFoundException,
  Post,
  Req,
} from '@nestjs/common';
import { ApiExcludeEndpoint, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import twilio from 'twilio';
import { Public } from '../auth/decorators';
import { AppConfig } from '../config/app-config';
import { ReceiptsService } from '../messaging';
import { fromTwilioStatus } from '../providers';

/** Twilio's status callback fields we read (form-encoded). */
interface TwilioStatusCallback {
  MessageSid?: string;
  MessageStatus?: string;
  ErrorCode?: string;
  Price?: string;
  PriceUnit?: string;
}

@ApiTags('webhooks')
@Public()
@Controller('api/sms/webhooks')
export class WebhooksController {
  constructor(
    private readonly config: AppConfig,
    private readonly receipts: ReceiptsService,
  ) {}

  /**
   * Twilio delivery status callbacks. The X-Twilio-Signature is checked against
   * PUBLIC_BASE_URL + the path, so only Twilio (holding the auth token) can move a status.
   */
  @Post('twilio/status')
  @HttpCode(204)
  @ApiExcludeEndpoint()
  async twilioStatus(
    @Req() req: Request,
    @Body() body: Record<string, string>,
    @Headers('x-twilio-signature') signature?: string,
  ): Promise<void> {
    const token = this.config.get('TWILIO_AUTH_TOKEN');
    if (!token) throw new NotFoundException('Twilio is not configured');
    const url = `${this.config.get('PUBLIC_BASE_URL')}${req.originalUrl}`;
    if (!signature || !twilio.validateRequest(token, signature, url, body)) {
      throw new ForbiddenException('invalid Twilio signature');
    }
    const cb = body as TwilioStatusCallback;
    if (!cb.MessageSid || !cb.MessageStatus) return;
    const price = cb.Price ? Number(cb.Price) : null;
    await this.receipts.apply({
      provider: 'twilio',
      providerMessageId: cb.MessageSid,
      status: fromTwilioStatus(cb.MessageStatus),
      providerStatus: cb.MessageStatus,
      errorCode: cb.ErrorCode || undefined,
      price: price !== null && Number.isFinite(price) ? price : null,
      priceUnit: cb.PriceUnit ?? null,
      source: 'twilio_webhook',
    });
  }
}
