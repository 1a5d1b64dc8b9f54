import { BullModule } from '@nestjs/bull';
import { ReplicaReadsModule } from '../database/replica-reads';
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import { MessagingModule } from '../messaging';
import { PhoneModule } from '../phone';
import { TenancyModule } from '../tenancy';
import { PrivacyController } from './privacy.controller';
import { PrivacyProcessor } from './privacy.processor';
import { PRIVACY_QUEUE, PrivacyService } from './privacy.service';

/** Data-subject requests: erase or export one phone number's data (docs/privacy.md). */
@Module({
  imports: [
    BullModule.registerQueue({ name: PRIVACY_QUEUE }),
    ReplicaReadsModule,
    MessagingModule,
    AuditModule,
    PhoneModule,
    TenancyModule,
  ],
  controllers: [PrivacyController],
  providers: [PrivacyService],
  exports: [PrivacyService],
})
export class PrivacyModule {}

/** The worker role's part: the export jobs. */
@Module({
  imports: [PrivacyModule],
  providers: [PrivacyProcessor],
})
export class PrivacyWorkerModule {}
