import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging';
import { ProvidersModule } from '../providers';
import { WebhooksController } from './webhooks.controller';

/** Provider callbacks: the provider (SmsRouter) parses, ReceiptsService (MessagingModule) applies. */
@Module({ imports: [MessagingModule, ProvidersModule], controllers: [WebhooksController] })
export class WebhooksModule {}
