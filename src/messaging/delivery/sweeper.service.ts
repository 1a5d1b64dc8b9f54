import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LockKey, runCronJob } from '../../database/advisory-lock';
import { DeliveryQueue } from './delivery-queue';

const BATCH = 1000;

/**
 * The outbox sweeper: PostgreSQL is the truth, so rows that should be in Redis but are not
 * (Redis flushed, enqueue failed after commit) are queued again. Bull ignores a job id it already
 * holds, so re-adding a live job is harmless.
 */
@Injectable()
export class SweeperService {
  private readonly logger = new Logger(SweeperService.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly queue: DeliveryQueue,
  ) {}

  @Cron(CronExpression.EVERY_MINUTE, { name: 'sms-sweeper' })
  tick(): Promise<void> {
    return runCronJob(this.ds, LockKey.Sweeper, this.logger, 'sweep', () => this.sweep());
  }

  /**
   * Queues `queued` rows untouched for `staleMs` and `scheduled` rows that are due. Returns how
   * many jobs it (re-)added.
   */
  async sweep(staleMs = 60_000): Promise<number> {
    const rows: { id: string }[] = await this.ds.query(
      `SELECT id FROM sms_messages
        WHERE (status = 'queued' AND updated_at < now() - make_interval(secs => $1::float / 1000))
           OR (status = 'scheduled' AND scheduled_at <= now() - make_interval(secs => $1::float / 1000 / 2))
        ORDER BY updated_at LIMIT $2`,
      [staleMs, BATCH],
    );
    if (rows.length === 0) return 0;
    // A finished job kept in Redis would block re-adding its id; drop those first.
    await Promise.all(
      rows.map(async ({ id }) => {
        const job = await this.queue.queue.getJob(id);
        if (job && ((await job.isCompleted()) || (await job.isFailed()))) await job.remove();
      }),
    );
    await this.queue.enqueue(rows.map((r) => ({ id: r.id })));
    this.logger.log({ count: rows.length }, 'sweeper queued messages');
    return rows.length;
  }
}
