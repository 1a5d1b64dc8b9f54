import { Controller, HttpCode, Logger, Param, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/decorators';
import { ForbiddenError, NotFoundError, ValidationFailedError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { ReceiptsService } from '../messaging';
import { SmsProvider, SmsRouter, WebhookRejectedError, WebhookRequest } from '../providers';
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
  ) {}

  /** Delivery status callbacks (e.g. Twilio's StatusCallback): move a message's status. */
  @Post(':provider/status')
  @HttpCode(204)
  @ApiProviderWebhook('status')
  async status(@Param('provider') name: string, @Req() req: Request): Promise<void> {
    const provider = this.find(name, (p) => Boolean(p.parseStatusCallback));
    const receipts = this.parse(() => provider.parseStatusCallback?.(this.webhook(req)) ?? []);
    for (const r of receipts) await this.receipts.apply(r);
  }

  /**
   * Inbound messages (a recipient texted one of our numbers). Verified and parsed only: storing
   * and acting on them comes with the inbound-SMS feature. Answers what the provider expects
   * (an empty reply), or 204.
   */
  @Post(':provider/inbound')
  @ApiProviderWebhook('inbound')
  inbound(
    @Param('provider') name: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): string | undefined {
    const provider = this.find(name, (p) => Boolean(p.parseInbound));
    const parsed = this.parse(() => provider.parseInbound?.(this.webhook(req)) ?? { messages: [] });
    for (const m of parsed.messages) {
      this.logger.log(
        { provider: m.provider, providerMessageId: m.providerMessageId, to: m.to, chars: m.body.length },
        'inbound message received (not stored yet)',
      );
    }
    if (!parsed.ack) {
      res.status(204);
      return undefined;
    }
    res.status(200).type(parsed.ack.contentType);
    return parsed.ack.body;
  }

  private find(name: string, accepts: (p: SmsProvider) => boolean): SmsProvider {
    const provider = this.router.provider(name);
    if (!provider || !accepts(provider)) {
      throw new NotFoundError(`no configured provider '${name.slice(0, 40)}' takes this webhook`);
    }
    return provider;
  }

  /** The request as the provider signed it: the public URL it called, headers, parsed body. */
  private webhook(req: Request): WebhookRequest {
    return {
      url: `${this.config.get('PUBLIC_BASE_URL')}${req.originalUrl}`,
      headers: req.headers,
      body: req.body as unknown,
    };
  }

  private parse<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof WebhookRejectedError)) throw e;
      if (e.reason === 'signature') throw new ForbiddenError(e.message);
      const details = e.field ? [{ field: e.field, errors: [e.message] }] : undefined;
      throw new ValidationFailedError(e.message, details);
    }
  }
}
