import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { bodyParser } from '../common/body-parsers';
import { InboundModule } from '../inbound';
import { MessagingModule } from '../messaging';
import { ProvidersModule } from '../providers';
import { WebhooksController } from './webhooks.controller';

/** Provider callbacks: the provider (SmsRouter) parses, ReceiptsService applies, InboundService stores texts. */
@Module({ imports: [MessagingModule, ProvidersModule, InboundModule], controllers: [WebhooksController] })
export class WebhooksModule implements NestModule {
  /**
   * SNS posts its JSON as text/plain: read it as text here (the JSON parser skips it). SNS messages
   * are at most 256 KB; the shared parser answers a larger or unreadable body (413/415/400).
   */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(bodyParser('text', { type: 'text/plain', limit: 512 * 1024 }))
      .forRoutes({ path: 'api/sms/webhooks/sns', method: RequestMethod.POST });
  }
}
