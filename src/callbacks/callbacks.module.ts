import { Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import { AppConfig } from '../config/app-config';
import { CallbackUrlModule } from './callback-url.module';
import { CallbacksController } from './callbacks.controller';
import { CallbacksService } from './callbacks.service';
import { DeliveriesRepository } from './deliveries.repository';
import { WebhookDispatcher } from './dispatcher.service';
import { EndpointsService } from './endpoints.service';
import { MigratedSecretSealer } from './migrated-secrets';
import { SecretBox } from './secret-box';

/**
 * Signed callbacks to the platform: tenant endpoints, the outbox and its API. Other features
 * publish events through `CallbacksService`; message status events come from a database trigger.
 * `WebhookDispatcher` sends due deliveries when the `callbacks` job ticks (src/jobs).
 */
@Module({
  imports: [AuditModule, CallbackUrlModule],
  controllers: [CallbacksController],
  providers: [
    { provide: SecretBox, inject: [AppConfig], useFactory: (c: AppConfig) => new SecretBox(c.dataKey()) },
    CallbacksService,
    DeliveriesRepository,
    EndpointsService,
    MigratedSecretSealer,
    WebhookDispatcher,
  ],
  exports: [CallbacksService, DeliveriesRepository, SecretBox, WebhookDispatcher],
})
export class CallbacksModule {}
