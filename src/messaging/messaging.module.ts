import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ReplicaReadsModule } from '../database/replica-reads';
import { SmsMessageEntity, SmsMessageEventEntity, SmsPriceEntity } from './message.entity';
import { BullModule } from '@nestjs/bull';
import { AnalyticsModule } from '../analytics';
import { AuditModule } from '../audit';
import { CallbackUrlModule } from '../callbacks';
import { AppConfig } from '../config/app-config';
import { PhoneModule } from '../phone';
import { ProvidersModule } from '../providers';
import { TenancyModule } from '../tenancy';
import { BodyCrypto } from './accept/body-crypto';
import { MessagingController } from './accept/messaging.controller';
import { AcceptService } from './accept/accept.service';
import {
  CAMPAIGN_DELIVERY_QUEUE,
  CODE_DELIVERY_QUEUE,
  DELIVERY_QUEUE_SETTINGS,
  DELIVERY_QUEUE,
  DELIVERY_QUEUES,
  DeliveryQueue,
} from './delivery/delivery-queue';
import { DeliveryStore } from './delivery/delivery-store';
import { DeliveryProcessor } from './delivery/delivery.processor';
import { DestinationPolicy } from './policies/destination-policy';
import { SweeperService } from './delivery/sweeper.service';
import { SpendCapPolicy } from './policies/spend-cap.policy';
import { IdempotencyService } from './policies/idempotency.service';
import { ConsentController } from './policies/consent.controller';
import { ConsentService } from './policies/consent.service';
import { OptOutsController } from './policies/opt-outs.controller';
import { OptOutsService } from './policies/opt-outs.service';
import { PhoneHasher } from './policies/phone-hash';
import { PrivacyLedger } from './repositories/privacy-ledger';
import { PricingService } from './policies/pricing.service';
import { RateLimiterService } from './policies/rate-limiter.service';
import { LedgerLimits } from './policies/ledger-limits';
import { ReceiptsService } from './receipts/receipts.service';
import { OutcomeResolver } from './receipts/outcome-resolver.service';
import { MessageConversions } from './receipts/message-conversions.service';
import { CampaignLedger } from './repositories/campaign-ledger';
import { ExperimentLedger } from './repositories/experiment-ledger';
import { MessagesRepository } from './repositories/messages.repository';
import { SystemMessagesRepository } from './repositories/system-messages.repository';
import { LedgerPartitions } from './repositories/ledger-partitions';
import { LedgerQueries } from './queries/ledger-queries.service';
import { MessageQueriesService } from './queries/message-queries.service';
import { ClickRateLimiter } from './links/click-rate-limiter';
import { LinkTracker } from './links/link-tracker';
import { LinkRedirectController, LinkStatsController } from './links/links.controller';
import { LinksRepository } from './links/links.repository';

/**
 * Messages from accept to delivery: the api role writes rows and adds jobs. Other modules import
 * it for what `exports` lists (and `index.ts` re-exports); the rest is internal.
 */
// channels (issue 25)
import { ChannelPolicy } from './channels/channel-policy';
import { ChannelDelivery } from './channels/channel-delivery';
import { ChannelFallbacks } from './channels/fallbacks.service';
import { WhatsappSessions } from './channels/whatsapp-sessions';
import { ChannelStatsController } from './channels/channel-stats.controller';

@Module({
  imports: [
    TypeOrmModule.forFeature([SmsMessageEntity, SmsMessageEventEntity, SmsPriceEntity]),
    ReplicaReadsModule,
    BullModule.registerQueue(
      // Shorter job locks: a job a dead worker held is back in ~10 s, not 30–60.
      { name: DELIVERY_QUEUE, settings: DELIVERY_QUEUE_SETTINGS },
      { name: CAMPAIGN_DELIVERY_QUEUE, settings: DELIVERY_QUEUE_SETTINGS },
      { name: CODE_DELIVERY_QUEUE, settings: DELIVERY_QUEUE_SETTINGS },
    ),
    TenancyModule,
    ProvidersModule,
    AuditModule,
    PhoneModule,
    // The callback URL guard: status_callback_url passes the rule endpoint registration does.
    CallbackUrlModule,
    // Month-to-date spend for the spend cap (the MonthToDateSpend port, implemented over the rollup).
    AnalyticsModule,
  ],
  controllers: [
    MessagingController,
    OptOutsController,
    ConsentController,
    // Tracked links: the public redirect (/l/{code}) and the stats.
    LinkRedirectController,
    LinkStatsController,
    ChannelStatsController,
  ],
  providers: [
    {
      provide: BodyCrypto,
      inject: [AppConfig],
      useFactory: (c: AppConfig) => new BodyCrypto(c.dataKey()),
    },
    { provide: PhoneHasher, inject: [AppConfig], useFactory: (c: AppConfig) => new PhoneHasher(c.dataKey()) },
    PrivacyLedger,
    DeliveryQueue,
    { provide: DELIVERY_QUEUES, inject: [DeliveryQueue], useFactory: (q: DeliveryQueue) => q.all() },
    DeliveryStore,
    DestinationPolicy,
    IdempotencyService,
    MessagesRepository,
    OptOutsService,
    ConsentService,
    AcceptService,
    CampaignLedger,
    ExperimentLedger,
    LedgerQueries,
    MessageQueriesService,
    PricingService,
    RateLimiterService,
    LedgerLimits,
    ReceiptsService,
    SpendCapPolicy,
    SweeperService,
    SystemMessagesRepository,
    LedgerPartitions,
    OutcomeResolver,
    MessageConversions,
    LinkTracker,
    LinksRepository,
    ClickRateLimiter,
    // channels (issue 25)
    ChannelPolicy,
    WhatsappSessions,
    ChannelFallbacks,
    ChannelDelivery,
  ],
  exports: [
    // What index.ts exports, for the features that import this module.
    AcceptService,
    CampaignLedger,
    ExperimentLedger,
    LedgerQueries,
    MessageQueriesService,
    SystemMessagesRepository,
    LedgerPartitions,
    ReceiptsService,
    OutcomeResolver,
    MessageConversions,
    SweeperService,
    OptOutsService,
    ConsentService,
    IdempotencyService,
    PhoneHasher,
    PrivacyLedger,
    DELIVERY_QUEUES,
    WhatsappSessions,
    ChannelFallbacks,
    // For MessagingWorkerModule only (index.ts does not export them, so no feature can name them).
    DeliveryQueue,
    DeliveryStore,
    BodyCrypto,
    ChannelDelivery,
  ],
})
export class MessagingModule {}

/** The worker role's part: the delivery processor that takes jobs from the queue. */
@Module({
  imports: [MessagingModule, ProvidersModule, TenancyModule],
  providers: [DeliveryProcessor],
})
export class MessagingWorkerModule {}
