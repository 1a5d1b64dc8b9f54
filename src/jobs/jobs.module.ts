import { Module } from '@nestjs/common';
import { SmsSdkModule } from '../sdk/sdk.module';
import { RemindersJob } from './reminders.job';
import { RetentionJob } from './retention.job';
import { StatusJob } from './status.job';

/** The brief's scheduled tasks. Worker role only; each runs on one replica at a time (advisory locks). */
@Module({
  imports: [SmsSdkModule],
  providers: [RemindersJob, RetentionJob, StatusJob],
  exports: [RemindersJob, RetentionJob, StatusJob],
})
export class JobsModule {}
