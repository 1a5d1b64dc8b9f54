import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit';
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
    @InjectDataSource() private readonly ds: DataSource,
    private readonly idempotency: IdempotencyService,
    private readonly messages: SystemMessagesRepository,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly jobs: JobsQueue,
  ) {}

  /** The tick planned for `at` only queues the run (its job id names the tick); a worker runs it (`JobRunner`, under the job's lock). */
  async enqueue(at: Date): Promise<string[]> {
    const jobId = `retention:${tickWindow(at)}`;
    await this.jobs.add([{ name: 'retention', data: {}, jobId }]);
    return [jobId];
  }

  async run(): Promise<
    { messages: number; idempotencyKeys: number; codes: number; auditEntries: number } & SideRows
  > {
    const days = this.config.get('SMS_RETENTION_DAYS');
    let messages = 0;
    for (;;) {
      // Chunks keep each transaction short; pending messages are never deleted, whatever their age.
      const deleted = await this.messages.deleteFinished(days, CHUNK);
      messages += deleted;
      if (deleted < CHUNK) break;
    }
    await this.ds.query(`DELETE FROM sms_parked_receipts WHERE received_at < now() - interval '1 day'`);
    const idempotencyKeys = await this.idempotency.purgeExpired();
    const [, codes] = await this.ds.query(
      `DELETE FROM sms_verification_codes WHERE expires_at < now() - interval '1 day'`,
    );
    const auditEntries = await this.audit.purgeExpired(); // SMS_AUDIT_RETENTION_DAYS, kept longer than messages
    const sideRows = await this.purgeSideTables(days);
    const result = { messages, idempotencyKeys, codes: Number(codes), auditEntries, ...sideRows };
    this.logger.log(result, 'retention done');
    return result;
  }

  /**
   * What outlives a message but must not outlive its retention: finished callback deliveries
   * (their attempts cascade), inbound texts (a phone number and a body), and the shared metadata of
   * bulks none of whose messages is left. Pending deliveries are never deleted. Each table is walked
   * by id, oldest first, in chunks, so no index on the time column is needed.
   */
  private async purgeSideTables(days: number): Promise<SideRows> {
    const chunked = async (sql: string): Promise<number> => {
      let total = 0;
      for (;;) {
        const [, n] = await this.ds.query(sql, [days, CHUNK]);
        total += Number(n);
        if (Number(n) < CHUNK) return total;
      }
    };
    const cutoff = `now() - make_interval(days => $1::int)`;
    const webhookDeliveries = await chunked(
      `DELETE FROM sms_webhook_deliveries WHERE id IN (
         SELECT id FROM sms_webhook_deliveries
          WHERE created_at < ${cutoff} AND status <> 'pending' ORDER BY id LIMIT $2)`,
    );
    const inboundMessages = await chunked(
      `DELETE FROM sms_inbound_messages WHERE id IN (
         SELECT id FROM sms_inbound_messages WHERE received_at < ${cutoff} ORDER BY id LIMIT $2)`,
    );
    const batches = await chunked(
      `DELETE FROM sms_batches WHERE id IN (
         SELECT b.id FROM sms_batches b
          WHERE b.created_at < ${cutoff}
            AND NOT EXISTS (SELECT 1 FROM sms_messages m WHERE m.batch_id = b.id)
          LIMIT $2)`,
    );
    return { webhookDeliveries, inboundMessages, batches };
  }
}

interface SideRows {
  webhookDeliveries: number;
  inboundMessages: number;
  batches: number;
}
