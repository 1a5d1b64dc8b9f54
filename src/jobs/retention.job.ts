import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit';
import { CallbacksService } from '../callbacks';
import { InboundService } from '../inbound';
import { TenantsService } from '../tenancy';
import { PrivacyService } from '../privacy';
import { VerificationService } from '../verification';
import { AppConfig } from '../config/app-config';
import {
  IdempotencyService,
  LedgerPartitions,
  SystemMessagesRepository,
  WhatsappSessions,
} from '../messaging';
import { JobsQueue, tickWindow } from './jobs-queue';

const CHUNK = 10_000;

/**
 * The brief's "clean up old SMS records": messages in a final status older than
 * SMS_RETENTION_DAYS (whole months of the partitioned ledger dropped, the rest deleted; with their events, and the callback deliveries, inbound texts and bulk
 * metadata of that age), idempotency keys past 24 h and verification codes expired for a day; and
 * redacts bodies past each tenant's body retention (docs/privacy.md#body-retention). Runs
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
    private readonly tenants: TenantsService,
    private readonly privacy: PrivacyService,
    private readonly partitions: LedgerPartitions,
    private readonly whatsappSessions: WhatsappSessions,
  ) {}

  /** The tick planned for `at` only queues the run (its job id names the tick); a worker runs it (`JobRunner`, under the job's lock). */
  async enqueue(at: Date): Promise<string[]> {
    const jobId = `retention:${tickWindow(at)}`;
    await this.jobs.add([{ name: 'retention', data: {}, jobId }]);
    return [jobId];
  }

  /**
   * Body retention: per tenant, message and inbound bodies older than its `body_retention_days`
   * (else SMS_BODY_RETENTION_DAYS) are redacted, and so is the text in its finished `message.inbound`
   * callback deliveries; inbound texts of no tenant by the service default.
   */
  private async redactBodies(): Promise<{
    messageBodies: number;
    inboundBodies: number;
    callbackBodies: number;
  }> {
    const fallback = this.config.get('SMS_BODY_RETENTION_DAYS');
    let messageBodies = 0;
    let callbackBodies = 0;
    let inboundBodies = await this.inbound.redactBodies(null, fallback, CHUNK);
    for (const { tenantId, days } of await this.tenants.bodyRetention(fallback)) {
      messageBodies += await this.messages.redactBodies(tenantId, days, CHUNK);
      inboundBodies += await this.inbound.redactBodies(tenantId, days, CHUNK);
      callbackBodies += await this.callbacks.redactInboundBodies(tenantId, days, CHUNK);
    }
    return { messageBodies, inboundBodies, callbackBodies };
  }

  async run(): Promise<Record<string, number>> {
    const days = this.config.get('SMS_RETENTION_DAYS');
    // Whole months of the ledger first (detach and drop: no row-by-row delete, no dead tuples),
    // where every message is final and past retention; then the row delete takes what is left
    // (the month partly inside the retention, the legacy partition, a month with a waiting row).
    const partitions = await this.partitions.dropExpired(days);
    // Each owner deletes its own rows; messages in chunks, and pending ones never.
    const ledger = await this.messages.purgeRetained(days, CHUNK);
    const result = {
      ledgerMonthsDropped: partitions.length,
      messages: ledger.messages,
      idempotencyKeys: await this.idempotency.purgeExpired(),
      codes: await this.verification.purgeExpired(),
      auditEntries: await this.audit.purgeExpired(), // SMS_AUDIT_RETENTION_DAYS, kept longer than messages
      webhookDeliveries: await this.callbacks.purgeFinished(days, CHUNK),
      inboundMessages: await this.inbound.purgeOlderThan(days, CHUNK),
      batches: ledger.batches,
      parkedReceipts: ledger.parkedReceipts,
      trackedLinks: ledger.links,
      whatsappSessions: await this.whatsappSessions.purgeClosed(), // windows over two days old
      ...(await this.redactBodies()),
      codeBodies: await this.messages.eraseSpentCodeBodies(CHUNK),
      privacyExports: await this.privacy.purgeExpiredExports(), // files past SMS_PRIVACY_EXPORT_TTL_SECONDS
    };
    this.logger.log(result, 'retention done');
    return result;
  }
}
