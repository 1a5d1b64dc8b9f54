import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging';
import { WebhooksController } from './webhooks.controller';

/** Provider callbacks; ReceiptsService comes from MessagingModule's exports. */
@Module({ imports: [MessagingModule], controllers: [WebhooksController] })
export class WebhooksModule {}
