import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit';
import { CallbacksService } from '../callbacks';
import { InboundService } from '../inbound';
import { PrivacyService } from '../privacy';
import { VerificationService } from '../verification';
import { AppConfig } from '../config/app-config';
import { IdempotencyService, SystemMessagesRepository } from '../messaging';
import { JobsQueue, tickWindow } from './jobs-queue';

const CHUNK = 10_000;

/**
 * The brief's "clean up old SMS records": messages in a final status older than
 * SMS_RETENTION_DAYS (with their events, and the callback deliveries, inbound texts and bulk
 * metadata of that age), idempotency keys past 24 h and verification codes expired for a day. Runs
 * daily (SMS_RETENTION_CRON) rather than monthly so each run deletes a small slice.
 */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger(RetentionJob.name);

  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly verification: VerificationService,
    private readonly callbacks: CallbacksService,
    private readonly inbound: InboundService,
    private readonly messages: SystemMessagesRepository,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly jobs: JobsQueue,
    private readonly privacy: PrivacyService,
  ) {}

  /** The tick planned for `at` only queues the run (its job id names the tick); a worker runs it (`JobRunner`, under the job's lock). */
  async enqueue(at: Date): Promise<string[]> {
    const jobId = `retention:${tickWindow(at)}`;
    await this.jobs.add([{ name: 'retention', data: {}, jobId }]);
    return [jobId];
  }

  async run(): Promise<Record<string, number>> {
    const days = this.config.get('SMS_RETENTION_DAYS');
    // Each owner deletes its own rows; messages in chunks, and pending ones never.
    const ledger = await this.messages.purgeRetained(days, CHUNK);
    const result = {
      messages: ledger.messages,
      idempotencyKeys: await this.idempotency.purgeExpired(),
      codes: await this.verification.purgeExpired(),
      auditEntries: await this.audit.purgeExpired(), // SMS_AUDIT_RETENTION_DAYS, kept longer than messages
      webhookDeliveries: await this.callbacks.purgeFinished(days, CHUNK),
      inboundMessages: await this.inbound.purgeOlderThan(days, CHUNK),
      batches: ledger.batches,
      parkedReceipts: ledger.parkedReceipts,
      privacyExports: await this.privacy.purgeExpiredExports(), // files past SMS_PRIVACY_EXPORT_TTL_SECONDS
    };
    this.logger.log(result, 'retention done');
    return result;
  }
}
