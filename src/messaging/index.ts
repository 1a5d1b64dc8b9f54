/** The public surface of messaging: what other modules may import. Everything else is internal. */
export { MessagingModule, MessagingWorkerModule } from './messaging.module';
export { SmsMessageEntity, SmsMessageEventEntity, SmsPriceEntity } from './message.entity';
export { MessagingService } from './accept/messaging.service';
export type { Accepted, AcceptInput, AcceptResult, SendContext } from './accept/messaging.service';
export { SendResponseDto } from './accept/messaging.dto';
export { toSendResponse } from './accept/messaging.mappers';
export { SendCtx, SendRoute } from './accept/send-route';
export { IdempotencyService } from './policies/idempotency.service';
export { RateLimiterService } from './policies/rate-limiter.service';
export { OptOutsService } from './policies/opt-outs.service';
export { ReceiptsService } from './receipts/receipts.service';
export { SweeperService } from './delivery/sweeper.service';
export { DeliveryQueue } from './delivery/delivery-queue';
export { OutcomeResolver, OUTCOME_UNKNOWN, WORKER_LOST } from './receipts/outcome-resolver.service';
export type { ResolveSummary } from './receipts/outcome-resolver.service';
export { SystemMessagesRepository } from './repositories/system-messages.repository';
