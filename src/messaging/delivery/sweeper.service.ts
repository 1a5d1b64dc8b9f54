import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { inChunks } from '../../common/chunked';
import { PendingRow, SystemMessagesRepository } from '../repositories/system-messages.repository';
import { DEFAULT_LANE, DeliveryQueue, Lane, laneOf } from './delivery-queue';

/** The cheap idle-row sweep runs this often (it is the safety net, not the recovery path). */
const IDLE_SWEEP_EVERY_MS = 60_000;
/** Rows per page and per addBulk when the whole backlog is re-queued. */
const BACKLOG_PAGE = 5000;
const IDLE_BATCH = 1000;
/** Rows per statement when waiting rows past their validity period are expired. */
const EXPIRE_BATCH = 2000;
/** The sentinel's name inside the delivery queue's own key space: a flush or an empty restart drops it with the jobs. */
const SENTINEL = 'sweeper-epoch';

/**
 * The outbox sweeper: PostgreSQL is the truth, so rows that should be in Redis but are not are
 * queued again. Each pass (the `sweep` job: every SMS_SWEEP_INTERVAL_MS, one replica at a time)
 * checks a sentinel key kept next to the queue's jobs: when it is missing, Redis lost its jobs
 * (flushed, restarted empty), and the whole `queued`/`scheduled` backlog is re-queued at once,
 * BACKLOG_PAGE rows per round trip. Otherwise, once a minute, it re-queues rows idle for a minute
 * (an enqueue that failed after commit). Every pass first ends `expired` the waiting rows whose
 * validity period has ended (a code stuck behind an outage, a paced or deferred message, a
 * scheduled one), so none lingers `queued` past it by more than a pass.
 * Bull ignores a job id it already holds, and the worker's conditional claim sends a message at
 * most once per attempt, so re-adding a live job is harmless.
 */
@Injectable()
export class SweeperService {
  private readonly logger = new Logger(SweeperService.name);
  private lastIdleSweep = 0;

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly messages: SystemMessagesRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * One pass: the whole backlog when Redis lost its jobs, else the idle rows when a minute has gone
   * by since this process last swept them (`idleNow`: sweep them now whatever the time).
   * `recovered`: rows re-queued after a loss (null: Redis still held its jobs); `queued`: idle rows
   * re-queued (null: not swept this pass); `expired`: waiting rows ended past their validity.
   */
  async pass(
    opts: { idleNow?: boolean } = {},
  ): Promise<{ recovered: number | null; queued: number | null; expired: number }> {
    const expired = await this.expireOverdue();
    const recovered = await this.recoverLostJobs();
    if (recovered) return { recovered, queued: null, expired };
    if (!opts.idleNow && Date.now() - this.lastIdleSweep < IDLE_SWEEP_EVERY_MS)
      return { recovered, queued: null, expired };
    this.lastIdleSweep = Date.now();
    return { recovered, queued: await this.sweep(), expired };
  }

  /**
   * Ends `expired` every `queued` or `scheduled` message whose validity period has ended (by the
   * Clock), in statements of EXPIRE_BATCH rows; each with its event and `message.expired` callback.
   */
  async expireOverdue(): Promise<number> {
    const at = this.clock.now();
    const n = await inChunks(EXPIRE_BATCH, () => this.messages.expireOverdue(at, EXPIRE_BATCH));
    if (n) this.logger.log({ count: n }, 'waiting messages expired past their validity period');
    return n;
  }

  /**
   * Re-queues the whole backlog when a sentinel is missing: each shard of the delivery queues keeps
   * one in its own key space (its own Redis Cluster slot: one master may lose its keys while the
   * others keep theirs). Returns the number of rows re-queued, or null when Redis still holds its
   * jobs. The sentinels are set first: a flush during the re-queue deletes them again and the next
   * tick starts over; a failure deletes those this pass set.
   */
  async recoverLostJobs(): Promise<number | null> {
    // Bull's own key layout: {prefix}:{queue}:{name}; deleting the queue's keys deletes this too.
    const sentinels = this.queue.shards.map((s) => ({
      client: s.queue.client,
      key: s.queue.toKey(SENTINEL),
    }));
    const set = await Promise.all(sentinels.map((s) => s.client.set(s.key, String(Date.now()), 'NX')));
    const missing = sentinels.filter((_, i) => set[i] !== null);
    if (missing.length === 0) return null;
    try {
      let count = 0;
      let cursor = null;
      do {
        const page = await this.messages.backlogPage(cursor, BACKLOG_PAGE);
        await this.queue.enqueue(
          page.rows.map((r) => ({ id: r.id, delayMs: r.dueInMs, priorityLane: sweptLane(r) })),
        );
        count += page.rows.length;
        cursor = page.next;
      } while (cursor);
      if (count)
        this.logger.warn({ count, shards: missing.length }, 'Redis had lost its jobs: backlog re-queued');
      return count;
    } catch (e) {
      await Promise.all(missing.map((s) => s.client.del(s.key).catch(() => undefined)));
      throw e;
    }
  }

  /**
   * Queues `queued` rows untouched for `staleMs` and `scheduled` rows that are overdue. Returns
   * how many jobs it (re-)added.
   */
  async sweep(staleMs = 60_000): Promise<number> {
    const rows = await this.messages.staleQueued(staleMs, IDLE_BATCH);
    await this.requeue(rows);
    if (rows.length) this.logger.log({ count: rows.length }, 'sweeper queued messages');
    return rows.length;
  }

  /**
   * Adds a job for each message; a finished job kept in Redis would block re-adding its id, so
   * those go first. A row's type sets its job's priority (a bare id: the default lane's).
   */
  async requeue(items: (string | PendingRow)[]): Promise<void> {
    if (items.length === 0) return;
    const jobs = items.map((i) =>
      typeof i === 'string' ? { id: i } : { id: i.id, priorityLane: sweptLane(i) },
    );
    await Promise.all(
      jobs.map(async ({ id, priorityLane }) => {
        // The queue enqueue adds this job to (a re-queued message is placed by its id).
        const job = await this.queue.queueFor(priorityLane ?? DEFAULT_LANE, undefined, id).getJob(id);
        if (job && ((await job.isCompleted()) || (await job.isFailed()))) await job.remove();
      }),
    );
    await this.queue.enqueue(jobs);
  }
}

/**
 * The Bull priority of a re-queued message: a code still overtakes, and a promotional or campaign
 * backlog re-queued after Redis lost its jobs waits behind transactional traffic instead of
 * joining it. (A custom type's template flag is not looked up here: such a message waits as
 * promotional; the worker still sends it with its template's SMS class.)
 */
function sweptLane(row: PendingRow): Lane {
  return row.campaign ? 'campaign' : laneOf(row.messageType, null);
}
