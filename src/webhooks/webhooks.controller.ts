import { Controller, HttpCode, Logger, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/decorators';
import { AppError, ForbiddenError, NotFoundError, ValidationFailedError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { InboundService } from '../inbound';
import { ReceiptsService } from '../messaging';
import { Clock } from '../common/clock';
import { SmsProvider, SmsRouter, SnsNotifications, WebhookRejectedError, WebhookRequest } from '../providers';
import { ApiProviderWebhook } from './webhooks.openapi';

/**
 * Provider callbacks, one route per kind for every provider. The controller knows no provider's
 * wire format: the named provider verifies the request (its signature scheme) and parses it;
 * receipts then go to ReceiptsService. Unknown or unconfigured provider: 404; bad signature: 403;
 * a signed but malformed field: 400.
 */
@ApiTags('webhooks')
@Public()
@Controller('api/sms/webhooks')
export class WebhooksController {
  private readonly logger = new Logger(WebhooksController.name);

  constructor(
    private readonly config: AppConfig,
    private readonly router: SmsRouter,
    private readonly receipts: ReceiptsService,
    private readonly inboundTexts: InboundService,
    private readonly sns: SnsNotifications,
    private readonly clock: Clock,
  ) {}

  /**
   * Amazon SNS HTTP(S) notifications (posted as JSON in text/plain): a subscription to confirm,
   * an End User Messaging SMS delivery event (a receipt), or a two-way SMS inbound text. Every
   * message is verified first (topic in SNS_TOPIC_ARNS, fresh, signed by an SNS certificate);
   * anything else is 403. SNS cannot carry a reply: keywords act, the reply is not sent.
   */
  @Post('sns')
  @HttpCode(204)
  @ApiOperation({
    summary: 'AWS SNS notifications (public; SNS signature verified)',
    description:
      'SNS HTTP(S) subscription endpoint: SubscriptionConfirmation (confirmed by calling SubscribeURL on an AWS host), End User Messaging delivery events (receipts) and two-way inbound texts. Every message must come from a topic in SNS_TOPIC_ARNS, be under an hour old and carry a valid SNS signature (v1 or v2).',
  })
  @ApiConsumes('text/plain', 'application/json')
  @ApiResponse({ status: 204, description: 'accepted' })
  @ApiResponse({
    status: 403,
    description: 'unsigned, forged, stale or from a topic not allowed; nothing applied',
  })
  @ApiResponse({ status: 413, description: 'the body is larger than 512 KiB (text/plain) or 1 MiB (JSON)' })
  @ApiResponse({ status: 415, description: 'a charset or Content-Encoding the service does not read' })
  @ApiResponse({
    status: 503,
    description: 'a SubscriptionConfirmation whose SubscribeURL failed; SNS sends it again',
  })
  async snsNotification(@Req() req: FastifyRequest): Promise<void> {
    const outcome = await this.parseAsync(() => this.sns.handle(req.body as unknown, this.clock.now()));
    if (outcome.kind === 'receipt') await this.receipts.apply(outcome.receipt);
    else if (outcome.kind === 'inbound') await this.inboundTexts.receive(outcome.message);
    else if (outcome.kind === 'ignored') this.logger.log({ why: outcome.why }, 'SNS notification ignored');
    else if (outcome.kind === 'unconfirmed')
      throw new AppError('service_unavailable', `SNS subscription not confirmed: ${outcome.why}`);
  }

  /**
   * Delivery status callbacks (e.g. Twilio's StatusCallback): move a message's status. `?account=`
   * names a tenant's own provider account (the URL the service gave that account's messages): the
   * request is verified with that account's credentials, never the operator's.
   */
  @Post(':provider/status')
  @HttpCode(204)
  @ApiProviderWebhook('status')
  async status(
    @Param('provider') name: string,
    @Req() req: FastifyRequest,
    @Query('account') account?: string,
  ): Promise<void> {
    const provider = await this.find(name, (p) => Boolean(p.parseStatusCallback), account);
    const receipts = this.parse(() => provider.parseStatusCallback?.(this.webhook(req)) ?? []);
    for (const r of receipts) await this.receipts.apply(r);
  }

  /**
   * Inbound messages (a recipient texted one of our numbers): verified, parsed, then stored and
   * acted on (STOP/START/HELP) by InboundService. Answers what the provider expects: the keyword's
   * reply (e.g. TwiML <Message>), an empty reply, or 204.
   */
  @Post(':provider/inbound')
  @ApiProviderWebhook('inbound')
  async inbound(
    @Param('provider') name: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
    @Query('account') account?: string,
  ): Promise<string | undefined> {
    const provider = await this.find(name, (p) => Boolean(p.parseInbound), account);
    const parsed = this.parse(() => provider.parseInbound?.(this.webhook(req)) ?? { messages: [] });
    let ack = parsed.ack;
    for (const m of parsed.messages) {
      const { reply } = await this.inboundTexts.receive(m);
      if (reply !== null && provider.inboundReply) ack = provider.inboundReply(reply);
    }
    if (!ack) {
      res.status(204);
      return undefined;
    }
    res.status(200).type(ack.contentType);
    return ack.body;
  }

  /** The named provider: the operator's, or with `account` that tenant account's (404 when none). */
  private async find(
    name: string,
    accepts: (p: SmsProvider) => boolean,
    account?: string,
  ): Promise<SmsProvider> {
    const provider =
      account === undefined ? this.router.provider(name) : await this.router.accountProvider(String(account));
    if (provider && provider.name !== name)
      throw new NotFoundError(
        `no account '${String(account).slice(0, 20)}' of provider '${name.slice(0, 40)}'`,
      );
    if (!provider || !accepts(provider)) {
      throw new NotFoundError(`no configured provider '${name.slice(0, 40)}' takes this webhook`);
    }
    return provider;
  }

  /** The request as the provider signed it: the public URL it called, headers, parsed body. */
  private webhook(req: FastifyRequest): WebhookRequest {
    return {
      url: `${this.config.get('PUBLIC_BASE_URL')}${req.url}`,
      headers: req.headers,
      body: req.body as unknown,
    };
  }

  private parse<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw rejection(e);
    }
  }

  private async parseAsync<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw rejection(e);
    }
  }
}

/** A provider's refusal as our error: signature → 403, payload → 400 naming the field. */
function rejection(e: unknown): unknown {
  if (!(e instanceof WebhookRejectedError)) return e;
  if (e.reason === 'signature') return new ForbiddenError(e.message);
  const details = e.field ? [{ field: e.field, errors: [e.message] }] : undefined;
  return new ValidationFailedError(e.message, details);
}
