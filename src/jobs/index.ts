export { JobsModule, JobsWorkerModule } from './jobs.module';
export { JobRunner } from './job-runner';
export { JOB_NAMES, JOBS_QUEUE, JobsQueue } from './jobs-queue';
export type { JobName } from './jobs-queue';
export { RemindersJob } from './reminders.job';
export { RetentionJob } from './retention.job';
export { StatusJob } from './status.job';
