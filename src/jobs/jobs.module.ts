import { Module } from '@nestjs/common';
import { InboundModule } from '../inbound';
import { PrivacyModule } from '../privacy';
import { VerificationModule } from '../verification';
import { BullModule } from '@nestjs/bull';
import { AnalyticsModule } from '../analytics';
import { AuditModule } from '../audit';
import { CallbacksModule } from '../callbacks';
import { CampaignsModule } from '../campaigns';
import { MessagingModule } from '../messaging';
import { MonitoringModule } from '../monitoring';
import { ProvidersModule } from '../providers';
import { SmsSdkModule } from '../sdk';
import { TenancyModule } from '../tenancy';
import { JobHandlers } from './job-handlers';
import { JobRunner } from './job-runner';
import { JobScheduler } from './job-scheduler';
import { JOBS_QUEUE, JobsQueue } from './jobs-queue';
import { JobsProcessor } from './jobs.processor';
import { RemindersJob } from './reminders.job';
import { RetentionJob } from './retention.job';
import { StatusJob } from './status.job';

/**
 * The one job registry (job-registry.ts): every periodic loop by name, one handler each
 * (`JobHandlers`, calling the feature's own method), run under its cluster-once rule by
 * `JobRunner`. Imported alone by `npm run job` (one-shot: no schedule, no queue worker, no port).
 */
@Module({
  imports: [
    BullModule.registerQueue({ name: JOBS_QUEUE }),
    SmsSdkModule,
    MessagingModule,
    ProvidersModule,
    AuditModule,
    CampaignsModule,
    CallbacksModule,
    AnalyticsModule,
    MonitoringModule,
    InboundModule,
    VerificationModule,
    TenancyModule,
    PrivacyModule,
  ],
  providers: [JobsQueue, JobHandlers, JobRunner, RemindersJob, RetentionJob, StatusJob],
  exports: [JobsQueue, JobRunner, RemindersJob, RetentionJob, StatusJob],
})
export class JobsModule {}

/** The long-running worker's part: the schedule of every job, and the `sms-jobs` queue's worker. */
@Module({ imports: [JobsModule], providers: [JobScheduler, JobsProcessor], exports: [JobScheduler] })
export class JobsWorkerModule {}
