import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bull';
import type { JobOptions, Queue } from 'bull';

/** The scheduled jobs' queue: a cron tick adds jobs here, the worker role runs them. */
export const JOBS_QUEUE = 'sms-jobs';

/** Every job an operator can run (`npm run job -- <name>`) and the queue carries. */
export const JOB_NAMES = ['reminders', 'status', 'retention', 'sweep'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export function isJobName(s: string): s is JobName {
  return (JOB_NAMES as readonly string[]).includes(s);
}

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
 * Completed jobs are kept two hours, so a job id added again within a tick window (another
 * replica's tick, a late tick) finds it and is ignored by Bull: a window is done once.
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
  async add(jobs: { name: JobName; data: JobData; jobId: string }[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data, opts: this.options(j.jobId) })));
  }
}

/** The index of the tick window `now` falls in (windows of `minutes` since the epoch). */
export function tickWindow(now: Date, minutes: number): number {
  return Math.floor(now.getTime() / (minutes * 60_000));
}
