import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bull';
import { AuditModule } from '../audit';
import { MessagingModule } from '../messaging';
import { ProvidersModule } from '../providers';
import { SmsSdkModule } from '../sdk';
import { JobRunner } from './job-runner';
import { JOBS_QUEUE, JobsQueue } from './jobs-queue';
import { JobsProcessor } from './jobs.processor';
import { RemindersJob } from './reminders.job';
import { RetentionJob } from './retention.job';
import { StatusJob } from './status.job';

/**
 * The brief's scheduled tasks. Cron ticks (worker role, ScheduleModule) only queue jobs on
 * `sms-jobs`; `JobRunner` runs a job by name, for the queue and for `npm run job`.
 */
@Module({
  imports: [
    BullModule.registerQueue({ name: JOBS_QUEUE }),
    SmsSdkModule,
    MessagingModule,
    ProvidersModule,
    AuditModule,
  ],
  providers: [JobsQueue, JobRunner, RemindersJob, RetentionJob, StatusJob],
  exports: [JobsQueue, JobRunner, RemindersJob, RetentionJob, StatusJob],
})
export class JobsModule {}

/** The worker role's part: takes the queued jobs. */
@Module({ imports: [JobsModule], providers: [JobsProcessor] })
export class JobsWorkerModule {}
