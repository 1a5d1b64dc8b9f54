import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { LockKey, runCronJob } from '../database/advisory-lock';
import { IdempotencyService } from '../messaging';

const CHUNK = 10_000;

/**
 * The brief's "clean up old SMS records": messages in a final status older than
 * SMS_RETENTION_DAYS (with their events), idempotency keys past 24 h and verification codes
 * expired for a day. Runs daily rather than monthly so each run deletes a small slice.
 */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger(RetentionJob.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly idempotency: IdempotencyService,
    private readonly config: AppConfig,
  ) {}

  @Cron('17 3 * * *', { name: 'sms-retention' })
  tick(): Promise<void> {
    return runCronJob(this.ds, LockKey.Retention, this.logger, 'retention', () => this.run());
  }

  async run(): Promise<{ messages: number; idempotencyKeys: number; codes: number }> {
    const days = this.config.get('SMS_RETENTION_DAYS');
    let messages = 0;
    for (;;) {
      // Chunks keep each transaction short; pending messages are never deleted, whatever their age.
      const [, deleted] = await this.ds.query(
        `DELETE FROM sms_messages WHERE id IN (
           SELECT id FROM sms_messages
            WHERE created_at < now() - make_interval(days => $1)
              AND status IN ('delivered', 'undelivered', 'failed', 'canceled', 'sent')
            LIMIT $2)`,
        [days, CHUNK],
      );
      messages += Number(deleted);
      if (Number(deleted) < CHUNK) break;
    }
    await this.ds.query(`DELETE FROM sms_parked_receipts WHERE received_at < now() - interval '1 day'`);
    const idempotencyKeys = await this.idempotency.purgeExpired();
    const [, codes] = await this.ds.query(
      `DELETE FROM sms_verification_codes WHERE expires_at < now() - interval '1 day'`,
    );
    const result = { messages, idempotencyKeys, codes: Number(codes) };
    this.logger.log(result, 'retention done');
    return result;
  }
}
