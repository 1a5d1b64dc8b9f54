import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bull';
import type { JobOptions, Queue } from 'bull';

/** The scheduled jobs' queue: a cron tick adds jobs here, the worker role runs them. */
export const JOBS_QUEUE = 'sms-jobs';

/** The jobs whose rule is `queue` (see JOBS): a tick adds them here, a worker runs them. */
export type QueuedJobName = 'reminders' | 'status' | 'retention';

/** Where a tenant's reminders job resumes: after this appointment (keyset on starts_at, id). */
export interface ReminderCursor {
  startsAt: string;
  appointmentId: string;
}

export interface JobData {
  /** Reminders: one job per tenant. */
  tenantId?: number;
  /** Reminders: the continuation point when the previous part hit SMS_REMINDERS_PER_JOB. */
  after?: ReminderCursor;
}

/**
 * Completed jobs are kept two hours, so a tick's job id added again (another replica's tick, a
 * late tick: the id names the planned fire time) finds it and is ignored by Bull: a tick is done once.
 */
const KEEP_DONE = { age: 2 * 3600, count: 10_000 };

@Injectable()
export class JobsQueue {
  constructor(@InjectQueue(JOBS_QUEUE) readonly queue: Queue<JobData>) {}

  options(jobId: string): JobOptions {
    return {
      jobId,
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: KEEP_DONE,
      removeOnFail: KEEP_DONE,
    };
  }

  /** Adds jobs in one round trip; an id Bull still holds is left alone (idempotent per window). */
  async add(jobs: { name: QueuedJobName; data: JobData; jobId: string }[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data, opts: this.options(j.jobId) })));
  }
}

/** The index of the window of `minutes` that `at` falls in (since the epoch): a tick's job id part. */
export function tickWindow(at: Date, minutes = 1): number {
  return Math.floor(at.getTime() / (minutes * 60_000));
}
