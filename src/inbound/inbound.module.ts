import { Module } from '@nestjs/common';
import { CallbacksModule } from '../callbacks';
import { MessagingModule } from '../messaging';
import { TemplatesModule } from '../templates';
import { InboundController } from './inbound.controller';
import { InboundRepository } from './inbound.repository';
import { InboundService } from './inbound.service';

/** Two-way SMS: inbound texts stored per tenant, STOP/START/HELP keywords acted on. */
@Module({
  imports: [MessagingModule, TemplatesModule, CallbacksModule],
  controllers: [InboundController],
  providers: [InboundRepository, InboundService],
  exports: [InboundService],
})
export class InboundModule {}
