export { JobsModule, JobsWorkerModule } from './jobs.module';
export { JobRunner } from './job-runner';
export { JobScheduler } from './job-scheduler';
export { JOB_NAMES, JOBS } from './job-registry';
export type { JobName } from './job-registry';
export { JOBS_QUEUE, JobsQueue } from './jobs-queue';
export { RemindersJob } from './reminders.job';
export { RetentionJob } from './retention.job';
export { StatusJob } from './status.job';
