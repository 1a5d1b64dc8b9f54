import { DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bull';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { TenancyModule } from '../tenancy/tenancy.module';
import { BodyCrypto } from './body-crypto';
import { DELIVERY_QUEUE, DeliveryQueue } from './delivery-queue';
import { DeliveryStore } from './delivery-store';
import { DeliveryProcessor } from './delivery.processor';
import { IdempotencyService } from './idempotency.service';
import { MessagesRepository } from './messages.repository';
import { MessagingController } from './messaging.controller';
import { MessagingService } from './messaging.service';
import { OptOutsController } from './opt-outs.controller';
import { OptOutsService } from './opt-outs.service';
import { PricingService } from './pricing.service';
import { RateLimiterService } from './rate-limiter.service';
import { ReceiptsService } from './receipts.service';
import { SweeperService } from './sweeper.service';

/**
 * Messages from accept to delivery. The delivery processor and the sweeper's cron exist only in
 * the worker role; the api role only writes rows and adds jobs.
 */
@Module({})
export class MessagingModule {
  static forRoot(opts: { worker: boolean }): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [BullModule.registerQueue({ name: DELIVERY_QUEUE }), TenancyModule],
      controllers: [MessagingController, OptOutsController],
      providers: [
        Clock,
        {
          provide: BodyCrypto,
          inject: [AppConfig],
          useFactory: (c: AppConfig) => new BodyCrypto(c.dataKey()),
        },
        DeliveryQueue,
        DeliveryStore,
        IdempotencyService,
        MessagesRepository,
        OptOutsService,
        MessagingService,
        PricingService,
        RateLimiterService,
        ReceiptsService,
        SweeperService,
        ...(opts.worker ? [DeliveryProcessor] : []),
      ],
      exports: [
        MessagingService,
        ReceiptsService,
        SweeperService,
        IdempotencyService,
        RateLimiterService,
        OptOutsService,
        Clock,
        DeliveryQueue,
      ],
    };
  }
}
