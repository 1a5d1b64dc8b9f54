import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bull';
import { QueueWorker } from '../common/queue-worker';
import { AppConfig } from '../config/app-config';
import { JobData, JobsQueue } from './jobs-queue';
import { JobRunner } from './job-runner';
import { RemindersJob } from './reminders.job';

/**
 * Worker role: runs the jobs the `queue`-rule ticks add, SMS_JOBS_CONCURRENCY at a time. A
 * reminders part that hit SMS_REMINDERS_PER_JOB queues its continuation at the back of the queue,
 * so other tenants' jobs run in between.
 */
@Injectable()
export class JobsProcessor implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsProcessor.name);
  private worker: QueueWorker<JobData> | null = null;

  constructor(
    private readonly jobs: JobsQueue,
    private readonly runner: JobRunner,
    private readonly reminders: RemindersJob,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // Keep the process up through a Redis outage; Bull reconnects on its own.
    this.jobs.queue.on('error', (e: Error) => this.logger.warn({ err: String(e) }, 'jobs queue error'));
    this.worker = new QueueWorker(this.jobs.queue, (e) =>
      this.logger.debug({ err: String(e) }, 'jobs queue processing ended'),
    );
    this.worker.start([
      { name: '*', concurrency: this.config.get('SMS_JOBS_CONCURRENCY'), handle: (job) => this.handle(job) },
    ]);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.settled(3_000);
  }

  async handle(job: Job<JobData>): Promise<unknown> {
    if (job.name === 'reminders' && job.data.tenantId !== undefined) {
      const r = await this.reminders.runTenant(job.data.tenantId, job.data.after);
      if (r.next) {
        // Bull job ids cannot be reused while kept: the continuation's id names its cursor.
        const id = `${String(job.id).replace(/:[^:]*$/, '')}:${r.next.startsAt}|${r.next.appointmentId}`;
        await this.jobs.add([
          { name: 'reminders', data: { tenantId: job.data.tenantId, after: r.next }, jobId: id },
        ]);
      }
      return r;
    }
    return this.runner.run(job.name, { tenantId: job.data.tenantId });
  }
}
