import { Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import { MessagingModule } from '../messaging';
import { ProvidersModule } from '../providers';
import { SmsSdkModule } from '../sdk';
import { RemindersJob } from './reminders.job';
import { RetentionJob } from './retention.job';
import { StatusJob } from './status.job';

/** The brief's scheduled tasks. Worker role only; each runs on one replica at a time (advisory locks). */
@Module({
  imports: [SmsSdkModule, MessagingModule, ProvidersModule, AuditModule],
  providers: [RemindersJob, RetentionJob, StatusJob],
  exports: [RemindersJob, RetentionJob, StatusJob],
})
export class JobsModule {}
