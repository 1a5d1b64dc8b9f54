import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { LockKey, runCronJob } from '../database/advisory-lock';

/**
 * The brief's hourly "update SMS delivery status". A message left in 'sending' means a worker
 * died mid-attempt: the provider may or may not have it, so — as for a timeout — it is failed as
 * `worker_lost` rather than sent again (a doubled code is the worse incident).
 */
@Injectable()
export class StatusJob {
  private readonly logger = new Logger(StatusJob.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'sms-status' })
  tick(): Promise<void> {
    return runCronJob(this.ds, LockKey.Reconcile, this.logger, 'status job', () => this.run());
  }

  async run(): Promise<number> {
    const rows: { id: string }[] = await this.ds.query(
      `WITH lost AS (
         UPDATE sms_messages SET status = 'failed', error_code = 'worker_lost',
           error_message = 'the worker stopped during the attempt; outcome unknown, not retried to avoid a duplicate',
           body_ciphertext = NULL, updated_at = now()
          WHERE status = 'sending' AND updated_at < now() - make_interval(mins => $1)
          RETURNING id
       ), events AS (
         INSERT INTO sms_message_events (message_id, status, source) SELECT id, 'failed', 'status_job' FROM lost
       )
       SELECT id FROM lost`,
      [this.config.get('SMS_STUCK_SENDING_MINUTES')],
    );
    if (rows.length) this.logger.warn({ count: rows.length }, 'failed messages stuck in sending');
    return rows.length;
  }
}
