import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { text } from 'express';
import { InboundModule } from '../inbound';
import { MessagingModule } from '../messaging';
import { ProvidersModule } from '../providers';
import { WebhooksController } from './webhooks.controller';

/** Provider callbacks: the provider (SmsRouter) parses, ReceiptsService applies, InboundService stores texts. */
@Module({ imports: [MessagingModule, ProvidersModule, InboundModule], controllers: [WebhooksController] })
export class WebhooksModule implements NestModule {
  /** SNS posts its JSON as text/plain: read it as text here (the JSON parser skips it). */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(text({ type: 'text/plain', limit: '512kb' }))
      .forRoutes({ path: 'api/sms/webhooks/sns', method: RequestMethod.POST });
  }
}
