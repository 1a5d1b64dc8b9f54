import { Injectable, Logger } from '@nestjs/common';
import { Semaphore } from '../common/semaphore';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { OUTCOME_UNKNOWN, OutcomeResolver, ReceiptsService, SystemMessagesRepository } from '../messaging';
import type { ResolveSummary } from '../messaging';
import { SmsRouter } from '../providers';
import { JobsQueue, tickWindow } from './jobs-queue';

/** A 'sent' message without a receipt after this long is asked about (up to two days old). */
const ASK_AFTER_MINUTES = 10;
const ASK_AT_ONCE = 10;
const ASK_PER_RUN = 500;

/**
 * The brief's hourly "update SMS delivery status" (SMS_STATUS_CRON):
 * - attempts whose outcome is not known (a row left in 'sending' by a worker that died, or
 *   'unknown' after a provider timeout) are settled by the OutcomeResolver, which also runs every
 *   minute on its own: found at the provider → 'sent'; provably not created → queued again;
 *   no way to ask → 'unknown' with the reason. Never 'failed', never resent on a guess;
 * - a message still 'sent' without a receipt (a lost callback, or PUBLIC_BASE_URL unreachable) is
 *   asked about at providers whose API allows it (Twilio), which also fills in its real cost.
 */
@Injectable()
export class StatusJob {
  private readonly logger = new Logger(StatusJob.name);

  constructor(
    private readonly router: SmsRouter,
    private readonly receipts: ReceiptsService,
    private readonly resolver: OutcomeResolver,
    private readonly messages: SystemMessagesRepository,
    private readonly clock: Clock,
    private readonly jobs: JobsQueue,
    private readonly config: AppConfig,
  ) {}

  /** The tick planned for `at` only queues the run (its job id names the tick); a worker runs it (`JobRunner`, under the job's lock). */
  async enqueue(at: Date): Promise<string[]> {
    const jobId = `status:${tickWindow(at)}`;
    await this.jobs.add([{ name: 'status', data: {}, jobId }]);
    return [jobId];
  }

  async run(): Promise<{ resolved: ResolveSummary; updated: number; expired: number }> {
    const resolved = await this.resolver.resolve();
    const updated = await this.askProviders();
    if (updated) this.logger.log({ updated }, 'delivery status updated');
    const expired = await this.expireUnanswerable(); // SNS 'sent' without a receipt → 'unknown'
    return { resolved, updated, expired };
  }

  /**
   * A provider that cannot be asked (SNS) and sent no receipt within SMS_RECEIPT_TIMEOUT_HOURS
   * never will: the message ends 'unknown' (not 'sent' forever, not 'failed' on a guess).
   */
  private async expireUnanswerable(): Promise<number> {
    const asked = new Set(this.router.statusProviders());
    const providers = this.router.order.filter((p) => !asked.has(p) && p !== 'sandbox');
    const hours = this.config.get('SMS_RECEIPT_TIMEOUT_HOURS');
    const expired = await this.messages.expireWithoutReceipt(
      providers,
      new Date(this.clock.now().getTime() - hours * 3_600_000),
      OUTCOME_UNKNOWN,
      `no delivery receipt within ${hours} hours`,
      ASK_PER_RUN,
    );
    if (expired) this.logger.warn({ expired }, 'messages without a receipt marked unknown');
    return expired;
  }

  private async askProviders(): Promise<number> {
    const providers = this.router.statusProviders();
    if (providers.length === 0) return 0;
    const rows = await this.messages.sentWithoutReceipt(
      providers,
      new Date(this.clock.now().getTime() - ASK_AFTER_MINUTES * 60_000),
      ASK_PER_RUN,
    );
    const slots = new Semaphore(ASK_AT_ONCE);
    let updated = 0;
    await Promise.all(
      rows.map((r) =>
        slots.run(async () => {
          try {
            const s = await this.router.fetchStatus(r.provider, r.providerMessageId, r.tenantId);
            if (!s) return;
            const next = s.status;
            const news = (next !== null && next !== 'sent') || (s.price !== null && r.cost === null);
            if (!news) return; // nothing new: no event noise
            await this.receipts.apply({
              provider: r.provider,
              providerMessageId: r.providerMessageId,
              status: next,
              providerStatus: s.providerStatus,
              errorCode: s.errorCode,
              price: s.price,
              currency: s.currency,
              source: 'status_job',
            });
            updated += 1;
          } catch (e) {
            // One message's lookup failing must not stop the others.
            this.logger.warn(
              { providerMessageId: r.providerMessageId, err: String(e) },
              'status lookup failed',
            );
          }
        }),
      ),
    );
    return updated;
  }
}
