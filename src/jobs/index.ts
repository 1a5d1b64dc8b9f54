export { JobsModule } from './jobs.module';
export { RemindersJob } from './reminders.job';
export { RetentionJob } from './retention.job';
export { StatusJob } from './status.job';
