/** The public surface of messaging: what other modules may import. Everything else is internal. */
export { MessagingModule, MessagingWorkerModule } from './messaging.module';
export { SmsMessageEntity, SmsMessageEventEntity, SmsPriceEntity } from './message.entity';
export { AcceptService } from './accept/accept.service';
export { MessageQueriesService } from './queries/message-queries.service';
export type { Accepted, AcceptInput, AcceptResult, SendContext } from './accept/accept.types';
export { SendResponseDto } from './accept/messaging.dto';
export { toSendResponse } from './accept/messaging.mappers';
export { presentAccepted, SendCtx, SendRoute } from './accept/send-route';
export type { Presented } from './accept/send-route';
export { MetadataField } from './accept/metadata';
export { IdempotencyService } from './policies/idempotency.service';
export { RateLimiterService } from './policies/rate-limiter.service';
export { OptOutsService } from './policies/opt-outs.service';
export type { OptOutChangeSource } from './policies/opt-outs.service'; // t1: inbound keywords
export { ReceiptsService } from './receipts/receipts.service';
export { SweeperService } from './delivery/sweeper.service';
export { DeliveryQueue } from './delivery/delivery-queue';
export { OutcomeResolver, OUTCOME_UNKNOWN, WORKER_LOST } from './receipts/outcome-resolver.service';
export type { ResolveSummary } from './receipts/outcome-resolver.service';
export { SystemMessagesRepository } from './repositories/system-messages.repository';
// c1: campaigns build their rows with the accept path's pieces
export { MessagesRepository } from './repositories/messages.repository';
export type { NewMessage } from './repositories/messages.repository';
export { PricingService } from './policies/pricing.service';
export { allowedCountries, destinationRefusal } from './policies/destination-rules';
export { CHUNK_SIZE } from './delivery/delivery-queue';
