import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bull';
import type { JobOptions, Queue } from 'bull';
import { AppConfig } from '../../config/app-config';
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

/** Messages per chunk job: Bull's per-job cost is paid once per chunk instead of per message. */
export const CHUNK_SIZE = 100;

/**
 * `lane` is absent on jobs added before lanes existed and on the sweeper's re-queued messages:
 * they run as transactional, and the message type alone decides how SNS sends them.
 * `tenantId` (campaign chunks): whose pacing budget the messages spend; `transactional`: their
 * template's flag (a custom type is promotional unless its template says otherwise).
 */
export type DeliverJobData =
  { id: string; lane?: Lane } | { ids: string[]; lane?: Lane; tenantId?: number; transactional?: boolean };

/** Jobs without a lane (the sweeper's) take the transactional priority: never behind promotions. */
export const DEFAULT_LANE: Lane = 'transactional';

export function messageIdsOf(data: DeliverJobData): string[] {
  return 'ids' in data ? data.ids : [data.id];
}

/**
 * Adds delivery jobs. A message is in at most one live job of its own id, or of its bulk chunk;
 * whichever runs, the worker's conditional claim hands it to a provider at most once per attempt.
 */
@Injectable()
export class DeliveryQueue {
  constructor(
    @InjectQueue(DELIVERY_QUEUE) readonly queue: Queue<DeliverJobData>,
    @InjectQueue(CAMPAIGN_DELIVERY_QUEUE) readonly campaignQueue: Queue<DeliverJobData>,
    @InjectQueue(CODE_DELIVERY_QUEUE) readonly codeQueue: Queue<DeliverJobData>,
    private readonly config: AppConfig,
  ) {}

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
   * needs a new id, or Bull would ignore it).
   */
  async enqueue(
    items: { id: string; delayMs?: number; jobId?: string; lane?: Lane; priorityLane?: Lane }[],
  ): Promise<void> {
    // `priorityLane` (the sweeper's): the job stays laneless, so the worker classifies it, but it
    // waits in Bull (and in its queue) as its lane would.
    const isCode = (i: (typeof items)[number]) => (i.lane ?? i.priorityLane) === 'code';
    const add = async (queue: Queue<DeliverJobData>, some: typeof items) => {
      if (some.length === 0) return;
      await queue.addBulk(
        some.map((i) => ({
          name: DeliveryJob.Deliver,
          data: i.lane ? { id: i.id, lane: i.lane } : { id: i.id },
          opts: this.jobOptions(i.jobId ?? i.id, i.delayMs, i.lane ?? i.priorityLane),
        })),
      );
    };
    await Promise.all([
      add(this.codeQueue, items.filter(isCode)),
      add(
        this.queue,
        items.filter((i) => !isCode(i)),
      ),
    ]);
  }

  /** The messages of one bulk, CHUNK_SIZE per job. */
  async enqueueChunks(ids: string[], delayMs = 0, lane?: Exclude<Lane, 'campaign'>): Promise<void> {
    await this.addChunks(this.queue, DeliveryJob.DeliverChunk, ids, delayMs, (chunk) =>
      lane ? { ids: chunk, lane } : { ids: chunk },
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
    await this.addChunks(
      this.campaignQueue,
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

  /** Removes the message's own job, on whichever queue holds it. */
  async remove(id: string): Promise<void> {
    for (const queue of [this.queue, this.codeQueue]) {
      const job = await queue.getJob(id);
      await job?.remove().catch(() => undefined);
    }
  }
}
