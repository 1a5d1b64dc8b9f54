import { Module } from '@nestjs/common';
import { WebhooksController } from './webhooks.controller';

/** Provider callbacks; ReceiptsService comes from MessagingModule's exports. */
@Module({ controllers: [WebhooksController] })
export class WebhooksModule {}
