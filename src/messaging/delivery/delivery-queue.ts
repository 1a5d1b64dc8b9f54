import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bull';
import Bull from 'bull';
import type { AdvancedSettings, JobOptions, Queue } from 'bull';
import { within } from '../../common/within';
import { AppConfig } from '../../config/app-config';
import {
  BULL_SETTINGS,
  BullConnections,
  bullPrefix,
  RedisClient,
  slotMaster,
  slotMasterGone,
} from '../../redis/redis.module';
import { CODE_MESSAGE_TYPES, isTransactional, MessageType } from '../../core/message-types';

export const DELIVERY_QUEUE = 'sms-delivery';
/**
 * Campaign traffic has a queue of its own: its chunk jobs never take the Bull slots that codes and
 * other sends need, and they are paced per tenant (SMS_CAMPAIGN_MPS).
 */
export const CAMPAIGN_DELIVERY_QUEUE = 'sms-delivery-campaigns';
/**
 * Codes have a queue of their own too. Bull's processing loops belong to a queue and each takes a
 * job of any name: a bulk's chunk jobs, each holding its loop until its hundred messages are
 * sent, take every loop of the shared queue, and a code waited in Bull for a chunk to finish
 * (seconds with a 200 ms provider) before its lane priority could count.
 */
export const CODE_DELIVERY_QUEUE = 'sms-delivery-codes';
/**
 * The delivery queues' job locks (codes, transactional and bulk, campaigns). A job taken by a
 * worker that dies (SIGKILL, a lost host) stays active until its lock expires and a live worker's
 * stalled-job check puts it back: with Bull's defaults (a 30 s lock, a check every 30 s) a code
 * waited 30–60 s (38 s in a topology run), and a reminder or a bulk chunk as long. Here at most
 * ~10 s: the lock lapses after 5 s (renewed every 2.5 s while the job runs), and each worker checks
 * every 2.5 s. A live worker whose event loop stalls past the lock can lose a job it still runs;
 * the second worker's claim then finds the rows it took ('sending' is claimed once), so a message
 * still goes out once. The cost: a Redis call per active job every 2.5 s, and a stalled-job check
 * per queue and worker. Other queues (callbacks, jobs) keep Bull's defaults.
 */
export const DELIVERY_QUEUE_SETTINGS: AdvancedSettings = {
  ...BULL_SETTINGS,
  lockDuration: 5_000,
  stalledInterval: 2_500,
};

/**
 * Injection token: every delivery queue of every shard (`Queue[]`), for the features that observe
 * them (metrics, the queue dashboard) without naming DeliveryQueue.
 */
export const DELIVERY_QUEUES = Symbol('DELIVERY_QUEUES');

/** Every job name on the delivery queue; the processor registers one handler for each. */
export enum DeliveryJob {
  /** One message; the job id is the message id. A code's is on CODE_DELIVERY_QUEUE. */
  Deliver = 'deliver',
  /** Up to CHUNK_SIZE messages of one bulk; the job id is `chunk:<first message id>`. */
  DeliverChunk = 'deliver-chunk',
  /** Up to CHUNK_SIZE messages of one campaign, on CAMPAIGN_DELIVERY_QUEUE; paced per tenant. */
  DeliverCampaignChunk = 'deliver-campaign-chunk',
}

/**
 * Priority lanes. Codes first, then other transactional messages, then promotional ones; a Bull
 * priority (lower runs first) on the shared queue, and the same order for the worker's in-flight
 * slots. Campaign messages are a lane of their own queue (see CAMPAIGN_DELIVERY_QUEUE).
 */
export type Lane = 'code' | 'transactional' | 'promotional' | 'campaign';
export const LANE_PRIORITY: Record<Lane, number> = {
  code: 1,
  transactional: 2,
  promotional: 10,
  campaign: 10,
};

/** The lane of a message of this type (`declared`: a custom type's template says transactional). */
export function laneOf(type: MessageType, declared?: boolean | null): Exclude<Lane, 'campaign'> {
  if (CODE_MESSAGE_TYPES.includes(type)) return 'code';
  return isTransactional(type, declared) ? 'transactional' : 'promotional';
}

/** How often a code shard that did not take its jobs in time is asked whether it answers again (see addCodes). */
export const PASS_OVER_MS = 1_000;

/** How long after a code's job its second one is added, on another master's shard (DeliveryQueue.hedge). */
export const CODE_HEDGE_MS = 1_000;
/** The job id of a code's second job: its message id and this. */
export const HEDGE_SUFFIX = ':hedge';

/** Messages per chunk job: Bull's per-job cost is paid once per chunk instead of per message. */
export const CHUNK_SIZE = 100;

/**
 * `lane` is absent on jobs added before lanes existed and on the sweeper's re-queued messages:
 * they run as transactional, and the message type alone decides how SNS sends them.
 * `tenantId`: whose messages they are, so the worker's slots are shared fairly between tenants
 * (absent on the sweeper's jobs and on jobs added before it was written), and for campaign chunks
 * whose pacing budget they spend; `transactional`: their template's flag (a custom type is
 * promotional unless its template says otherwise).
 */
export type DeliverJobData =
  | { id: string; lane?: Lane; tenantId?: number }
  | { ids: string[]; lane?: Lane; tenantId?: number; transactional?: boolean };

/** Jobs without a lane (the sweeper's) take the transactional priority: never behind promotions. */
export const DEFAULT_LANE: Lane = 'transactional';

/** A single message's job data: its lane and tenant when known (a laneless job is the sweeper's). */
function jobData(i: { id: string; lane?: Lane; tenantId?: number }): DeliverJobData {
  if (!i.lane) return { id: i.id };
  return i.tenantId === undefined
    ? { id: i.id, lane: i.lane }
    : { id: i.id, lane: i.lane, tenantId: i.tenantId };
}

export function messageIdsOf(data: DeliverJobData): string[] {
  return 'ids' in data ? data.ids : [data.id];
}

/**
 * One shard of the delivery queues: its three lane queues (codes, campaign chunks, the rest), whose
 * keys share one hash tag, so the shard lives on one Redis Cluster master and the shards spread
 * over the masters.
 */
export interface DeliveryShard {
  index: number;
  queue: Queue<DeliverJobData>;
  campaignQueue: Queue<DeliverJobData>;
  codeQueue: Queue<DeliverJobData>;
}

/** The queue of a shard a single-message job of this lane goes to: its code queue or its shared one. */
function singleJobQueue(shard: DeliveryShard, lane: Lane): Queue<DeliverJobData> {
  return lane === 'code' ? shard.codeQueue : shard.queue;
}

/** A lane queue's name in shard `n`: shard 0 keeps the names of before, the others end `.n`. */
export function shardQueueName(base: string, n: number): string {
  return n === 0 ? base : `${base}.${n}`;
}

/**
 * Bull's key prefix of shard `n`: shard 0's is the prefix every other queue shares (`{sms}`, the
 * keys of before, so one shard on one Redis changes nothing); shard n's is `{sms:sms:n}`.
 */
export function shardPrefix(config: AppConfig, n: number): string {
  return n === 0 ? bullPrefix(config) : bullPrefix(config, `sms:${n}`);
}

/**
 * The shard of a tenant's traffic in one lane (FNV-1a of `tenant:lane`, modulo the shard count):
 * one tenant's lane stays in one shard (its order within the lane is Bull's), and tenants spread
 * over the shards, which the workers consume side by side. A message whose tenant the caller does
 * not know (the sweeper's, a hand-over) is placed by its id.
 */
export function shardOf(shards: number, lane: Lane, tenantId: number | undefined, id: string): number {
  if (shards <= 1) return 0;
  const key = tenantId === undefined ? id : `${tenantId}:${lane}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/**
 * Adds delivery jobs. A message is in at most one live job of its own id, or of its bulk chunk (on
 * a Redis Cluster a code also in a second one, added a second later: see hedge); whichever runs,
 * the worker's conditional claim hands it to a provider at most once per attempt.
 *
 * The queues are SMS_QUEUE_SHARDS shards (see DeliveryShard, shardOf). Shard 0's queues are the
 * ones BullModule registers (and `queue`, `campaignQueue`, `codeQueue` name them); the others are
 * opened here, with the same Bull options and a prefix of their own, and closed on shutdown.
 */
@Injectable()
export class DeliveryQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryQueue.name);
  readonly shards: readonly DeliveryShard[];
  /** Code shards that did not take jobs in time, and until when they are tried last (addCodes). */
  private readonly passOver = new Map<number, number>();
  /** Codes' second jobs not added yet (hedge). */
  private readonly hedges = new Set<NodeJS.Timeout>();

  constructor(
    @InjectQueue(DELIVERY_QUEUE) readonly queue: Queue<DeliverJobData>,
    @InjectQueue(CAMPAIGN_DELIVERY_QUEUE) readonly campaignQueue: Queue<DeliverJobData>,
    @InjectQueue(CODE_DELIVERY_QUEUE) readonly codeQueue: Queue<DeliverJobData>,
    private readonly config: AppConfig,
    connections: BullConnections,
  ) {
    const shards: DeliveryShard[] = [{ index: 0, queue, campaignQueue, codeQueue }];
    for (let n = 1; n < config.queueShards(); n++) {
      const options = connections.rootOptions(shardPrefix(config, n));
      const open = (base: string) =>
        new Bull<DeliverJobData>(shardQueueName(base, n), { ...options, settings: DELIVERY_QUEUE_SETTINGS });
      shards.push({
        index: n,
        queue: open(DELIVERY_QUEUE),
        campaignQueue: open(CAMPAIGN_DELIVERY_QUEUE),
        codeQueue: open(CODE_DELIVERY_QUEUE),
      });
    }
    this.shards = shards;
  }

  /** Every delivery queue of every shard (metrics, the dashboard, shutdown). */
  all(): Queue<DeliverJobData>[] {
    return this.shards.flatMap((s) => [s.queue, s.campaignQueue, s.codeQueue]);
  }

  /** The shard a message of this tenant and lane goes to (see shardOf). */
  shardFor(lane: Lane, tenantId: number | undefined, id: string): DeliveryShard {
    return this.shards[shardOf(this.shards.length, lane, tenantId, id)];
  }

  /** The queue a single-message job of this lane goes to: the shard's code queue or its shared one. */
  queueFor(lane: Lane, tenantId: number | undefined, id: string): Queue<DeliverJobData> {
    return singleJobQueue(this.shardFor(lane, tenantId, id), lane);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const timer of this.hedges) clearTimeout(timer);
    this.hedges.clear();
    // Shard 0's queues are BullModule's, which closes them.
    await Promise.all(
      this.shards
        .slice(1)
        .flatMap((s) => [s.queue, s.campaignQueue, s.codeQueue])
        .map((q) => q.close().catch(() => undefined)),
    );
  }

  jobOptions(jobId: string, delayMs = 0, lane: Lane = DEFAULT_LANE): JobOptions {
    return {
      jobId,
      // Every job of the shared queue has a priority (Bull orders a mix of prioritised and
      // unprioritised jobs badly); it is kept through delays and retries.
      priority: LANE_PRIORITY[lane],
      attempts: this.config.get('SMS_MAX_ATTEMPTS'),
      backoff: { type: 'exponential', delay: this.config.get('SMS_RETRY_BASE_MS') },
      delay: Math.max(0, delayMs),
      removeOnComplete: true,
      removeOnFail: true,
    };
  }

  /**
   * One job per message, in one round trip per queue (codes on CODE_DELIVERY_QUEUE, the rest on
   * the shared one); an id already in Redis is left as it is (Bull ignores it). The job id is the
   * message id unless `jobId` says otherwise (a message deferred from inside its own running job
   * needs a new id, or Bull would ignore it). `tenantId` picks the shard (see shardOf).
   */
  async enqueue(
    items: {
      id: string;
      tenantId?: number;
      delayMs?: number;
      jobId?: string;
      lane?: Lane;
      priorityLane?: Lane;
    }[],
  ): Promise<void> {
    // `priorityLane` (the sweeper's): the job stays laneless, so the worker classifies it, but it
    // waits in Bull (and in its queue) as its lane would.
    const byQueue = new Map<Queue<DeliverJobData>, { shard: number; code: boolean; items: typeof items }>();
    for (const i of items) {
      const lane = i.lane ?? i.priorityLane ?? DEFAULT_LANE;
      const shard = this.shardFor(lane, i.tenantId, i.id);
      const q = singleJobQueue(shard, lane);
      const group = byQueue.get(q) ?? { shard: shard.index, code: lane === 'code', items: [] };
      group.items.push(i);
      byQueue.set(q, group);
    }
    await Promise.all(
      [...byQueue].map(([queue, { shard, code, items: some }]) => {
        const jobs = some.map((i) => ({
          name: DeliveryJob.Deliver,
          data: jobData(i),
          opts: this.jobOptions(i.jobId ?? i.id, i.delayMs, i.lane ?? i.priorityLane),
        }));
        return code && this.shards.length > 1 ? this.addCodes(shard, jobs) : queue.addBulk(jobs);
      }),
    );
  }

  /**
   * Codes do not wait for their shard. When its master has not taken the jobs within
   * REDIS_COMMAND_TIMEOUT_MS (killed and not yet failed over, or cut off), they go to the code
   * queue of the next shard, then the next: every worker consumes every shard. Otherwise they
   * would wait for the sweeper (a minute or more). Should the first add land after all, the
   * message has a job in two queues; the one that runs second finds it claimed and skips it (a job
   * claims only a `queued` row), as with the sweeper's re-queued rows.
   * A shard that did not take them is passed over (tried last, not first): a failover lasts
   * seconds, and each code would otherwise wait out the bound before moving on (1.2–1.9 s from
   * POST to the provider in a topology run, against ~0.1 s outside it). Every PASS_OVER_MS a read
   * of one of its keys, in the background, asks whether it answers again; no code waits for it.
   * Once a shard has taken them, a second job goes to another master's shard (hedge).
   */
  private async addCodes(
    first: number,
    jobs: { name: string; data: DeliverJobData; opts: JobOptions }[],
  ): Promise<void> {
    const timeoutMs = this.config.get('REDIS_COMMAND_TIMEOUT_MS');
    const now = Date.now();
    const order = this.shards.map((_, i) => (first + i) % this.shards.length);
    const passed = (n: number) => this.passOver.has(n);
    for (const n of order.filter(passed))
      if ((this.passOver.get(n) ?? 0) <= now) this.probeCodeShard(n, timeoutMs);
    let failure: unknown;
    for (const n of [...order.filter((n) => !passed(n)), ...order.filter(passed)]) {
      const queue = this.shards[n].codeQueue;
      if (slotMasterGone(queue.client as unknown as RedisClient, queue.toKey('id'))) {
        // Its master's connection has ended: not worth the wait (a passed-over shard still gets
        // its probe, which finds it answering once the replica is promoted).
        failure = new Error(`the code queue of shard ${n}: its master is gone`);
        if (!passed(n)) this.passOver.set(n, Date.now() + PASS_OVER_MS);
        continue;
      }
      const added = queue.addBulk(jobs);
      added.catch(() => undefined); // a late failure of an add given up on
      try {
        await within(
          added,
          timeoutMs,
          () => new Error(`the code queue of shard ${n}: no answer in ${timeoutMs} ms`),
        );
        this.passOver.delete(n);
        if (n !== first)
          this.logger.warn({ count: jobs.length, shard: first, to: n }, 'codes queued on another shard');
        this.hedge(n, order, jobs);
        return;
      } catch (e) {
        failure = e;
        this.passOver.set(n, Date.now() + PASS_OVER_MS);
      }
    }
    throw failure;
  }

  /**
   * On a Redis Cluster, a second job for each code, added CODE_HEDGE_MS after the first, to the
   * code queue of a shard that another master serves. A master that took a code's job and then
   * died or stopped answering before a worker had it would otherwise hold the code until its
   * replica's promotion (11–12 s in topology runs), or until the sweeper's minute when the write
   * had not reached the replica. Whichever job runs second finds the row claimed or sent and skips
   * it (a job claims only a `queued` row that is due), so in the usual case the cost is one job and
   * one claim that finds nothing.
   * - Added by a timer of this process, not as a Bull delayed job: a delayed job waits for Bull's
   *   notice, which a subscriber connected to the stopped master never gets, or for its poll (5 s).
   * - Not awaited: the 202 does not wait for it, and a second job that is not added (the process
   *   stops first, Redis refuses it) leaves the code as it was without one.
   * - None on one Redis (every shard shares its fate), for a job that is itself delayed (a retry or
   *   a deferral, not a code in a hurry), or when every other master is passed over or gone.
   */
  private hedge(
    n: number,
    order: number[],
    jobs: { name: string; data: DeliverJobData; opts: JobOptions }[],
  ): void {
    const now = jobs.filter((j) => !j.opts.delay);
    if (now.length === 0 || this.masterOf(n) === undefined) return;
    const timer = setTimeout(() => {
      this.hedges.delete(timer);
      const took = this.masterOf(n);
      const other = order.find((m) => {
        if (m === n || this.passOver.has(m)) return false;
        const master = this.masterOf(m);
        const queue = this.shards[m].codeQueue;
        return (
          master !== undefined &&
          master !== took &&
          !slotMasterGone(queue.client as unknown as RedisClient, queue.toKey('id'))
        );
      });
      if (other === undefined) return;
      this.shards[other].codeQueue
        .addBulk(
          now.map((j) => ({ ...j, opts: { ...j.opts, jobId: `${String(j.opts.jobId)}${HEDGE_SUFFIX}` } })),
        )
        .catch((e: unknown) =>
          this.logger.debug({ err: String(e), shard: other }, 'codes: second job not queued'),
        );
    }, CODE_HEDGE_MS);
    timer.unref();
    this.hedges.add(timer);
  }

  /** The master (`host:port`) serving shard `m`'s code queue; undefined on one Redis. */
  private masterOf(m: number): string | undefined {
    const queue = this.shards[m].codeQueue;
    return slotMaster(queue.client as unknown as RedisClient, queue.toKey('id'));
  }

  /** Whether a passed-over code shard answers again (a read in its slot); until then it stays passed over. */
  private probeCodeShard(n: number, timeoutMs: number): void {
    this.passOver.set(n, Date.now() + PASS_OVER_MS); // one probe at a time
    const queue = this.shards[n].codeQueue;
    const read = queue.client.exists(queue.toKey('id'));
    read.catch(() => undefined);
    within(read, timeoutMs, () => new Error('no answer')).then(
      () => this.passOver.delete(n),
      () => undefined,
    );
  }

  /** The messages of one bulk of this tenant, CHUNK_SIZE per job, on the tenant's shard. */
  async enqueueChunks(
    tenantId: number,
    ids: string[],
    delayMs = 0,
    lane?: Exclude<Lane, 'campaign'>,
  ): Promise<void> {
    if (ids.length === 0) return;
    const shard = this.shardFor(lane ?? DEFAULT_LANE, tenantId, ids[0]);
    await this.addChunks(shard.queue, DeliveryJob.DeliverChunk, ids, delayMs, (chunk) =>
      lane ? { ids: chunk, lane, tenantId } : { ids: chunk, tenantId },
    );
  }

  /**
   * The messages of one campaign, CHUNK_SIZE per job, on the campaign queue; `tenantId` names the
   * pacing budget they spend. `jobSuffix` makes a new job id for messages handed back by a job
   * of the same chunk (a stopping worker, an outage).
   */
  async enqueueCampaignChunks(
    tenantId: number,
    ids: string[],
    opts: { delayMs?: number; transactional?: boolean; jobSuffix?: string } = {},
  ): Promise<void> {
    const { transactional } = opts;
    if (ids.length === 0) return;
    await this.addChunks(
      this.campaignQueueOf(tenantId),
      DeliveryJob.DeliverCampaignChunk,
      ids,
      opts.delayMs ?? 0,
      (chunk) =>
        transactional === undefined
          ? { ids: chunk, lane: 'campaign', tenantId }
          : { ids: chunk, lane: 'campaign', tenantId, transactional },
      opts.jobSuffix,
    );
  }

  /** The campaign queue of the tenant's shard (its chunks, and its pacing key). */
  campaignQueueOf(tenantId: number): Queue<DeliverJobData> {
    return this.shardFor('campaign', tenantId, '').campaignQueue;
  }

  private async addChunks(
    queue: Queue<DeliverJobData>,
    name: DeliveryJob,
    ids: string[],
    delayMs: number,
    data: (chunk: string[]) => DeliverJobData,
    jobSuffix = '',
  ): Promise<void> {
    const jobs = [];
    for (let i = 0; i < ids.length; i += CHUNK_SIZE) {
      const chunk = ids.slice(i, i + CHUNK_SIZE);
      const d = data(chunk);
      jobs.push({
        name,
        data: d,
        opts: this.jobOptions(`chunk:${chunk[0]}${jobSuffix}`, delayMs, d.lane),
      });
    }
    for (let i = 0; i < jobs.length; i += 100) await queue.addBulk(jobs.slice(i, i + 100));
  }

  /** Removes the message's own jobs (a code's second one too), on whichever queues of whichever shards hold them. */
  async remove(id: string): Promise<void> {
    const jobs = this.shards.flatMap((s) => [
      { queue: s.queue, jobId: id },
      { queue: s.codeQueue, jobId: id },
      { queue: s.codeQueue, jobId: `${id}${HEDGE_SUFFIX}` },
    ]);
    await Promise.all(
      jobs.map(async ({ queue, jobId }) => {
        const job = await queue.getJob(jobId);
        await job?.remove().catch(() => undefined);
      }),
    );
  }
}
