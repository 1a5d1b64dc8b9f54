import { Module } from '@nestjs/common';
import { InboundModule } from '../inbound';
import { MessagingModule } from '../messaging';
import { ProvidersModule } from '../providers';
import { WebhooksController } from './webhooks.controller';

/** Provider callbacks: the provider (SmsRouter) parses, ReceiptsService applies, InboundService stores texts. */
@Module({ imports: [MessagingModule, ProvidersModule, InboundModule], controllers: [WebhooksController] })
export class WebhooksModule {}
