import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Semaphore } from '../common/semaphore';
import { AppConfig } from '../config/app-config';
import { LockKey, withAdvisoryLock } from '../database/advisory-lock';
import { ProviderName } from '../core/message-types';
import { ReceiptsService } from '../messaging';
import { SmsRouter } from '../providers';
import { JobsQueue, tickWindow } from './jobs-queue';

/** A 'sent' message without a receipt after this long is asked about (up to two days old). */
const ASK_AFTER_MINUTES = 10;
const ASK_AT_ONCE = 10;
const ASK_PER_RUN = 500;

/**
 * The brief's hourly "update SMS delivery status":
 * - a message left in 'sending' means a worker died mid-attempt: the provider may or may not have
 *   it, so — as for a timeout — it is failed as `worker_lost` rather than sent again;
 * - a message still 'sent' without a receipt (a lost callback, or PUBLIC_BASE_URL unreachable) is
 *   asked about at providers whose API allows it (Twilio), which also fills in its real cost.
 */
@Injectable()
export class StatusJob {
  private readonly logger = new Logger(StatusJob.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly router: SmsRouter,
    private readonly receipts: ReceiptsService,
    private readonly config: AppConfig,
    private readonly jobs: JobsQueue,
  ) {}

  /** The hourly tick only queues the run (one job id per hour); a worker runs it under the lock. */
  @Cron(CronExpression.EVERY_HOUR, { name: 'sms-status' })
  async tick(): Promise<void> {
    const hour = tickWindow(new Date(), 60);
    await this.jobs.add([{ name: 'status', data: {}, jobId: `status:${hour}` }]).catch((e: unknown) => {
      this.logger.error({ err: String(e) }, 'status job not queued');
    });
  }

  /** The queued (or operator's) run, on one replica at a time (advisory lock); a failure throws. */
  async runLocked(): Promise<unknown> {
    const result = await withAdvisoryLock(this.ds, LockKey.Reconcile, () => this.run());
    return result ?? { skipped: 'another replica holds the lock' };
  }

  async run(): Promise<{ lost: number; updated: number }> {
    const lost = await this.failStuckSending();
    const updated = await this.askProviders();
    if (lost || updated) this.logger.log({ lost, updated }, 'delivery status updated');
    return { lost, updated };
  }

  private async failStuckSending(): Promise<number> {
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
    return rows.length;
  }

  private async askProviders(): Promise<number> {
    const providers = this.router.statusProviders();
    if (providers.length === 0) return 0;
    const rows: { provider: ProviderName; provider_message_id: string; cost: string | null }[] =
      await this.ds.query(
        `SELECT provider, provider_message_id, cost FROM sms_messages
        WHERE status = 'sent' AND provider = ANY($1) AND provider_message_id IS NOT NULL
          AND sent_at < now() - make_interval(mins => $2) AND sent_at > now() - interval '48 hours'
        ORDER BY sent_at LIMIT $3`,
        [providers, ASK_AFTER_MINUTES, ASK_PER_RUN],
      );
    const slots = new Semaphore(ASK_AT_ONCE);
    let updated = 0;
    await Promise.all(
      rows.map((r) =>
        slots.run(async () => {
          try {
            const s = await this.router.fetchStatus(r.provider, r.provider_message_id);
            if (!s) return;
            const next = s.status;
            const news = (next !== null && next !== 'sent') || (s.price !== null && r.cost === null);
            if (!news) return; // nothing new: no event noise
            await this.receipts.apply({
              provider: r.provider,
              providerMessageId: r.provider_message_id,
              status: next,
              providerStatus: s.providerStatus,
              errorCode: s.errorCode,
              price: s.price,
              priceUnit: s.priceUnit,
              source: 'status_job',
            });
            updated += 1;
          } catch (e) {
            // One message's lookup failing must not stop the others.
            this.logger.warn(
              { providerMessageId: r.provider_message_id, err: String(e) },
              'status lookup failed',
            );
          }
        }),
      ),
    );
    return updated;
  }
}
