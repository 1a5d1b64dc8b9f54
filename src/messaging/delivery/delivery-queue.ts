import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bull';
import type { JobOptions, Queue } from 'bull';
import { AppConfig } from '../../config/app-config';

export const DELIVERY_QUEUE = 'sms-delivery';

/** Every job name on the delivery queue; the processor registers one handler for each. */
export enum DeliveryJob {
  /** One message; the job id is the message id. */
  Deliver = 'deliver',
  /** Up to CHUNK_SIZE messages of one bulk; the job id is `chunk:<first message id>`. */
  DeliverChunk = 'deliver-chunk',
}

/** Messages per chunk job: Bull's per-job cost is paid once per chunk instead of per message. */
export const CHUNK_SIZE = 100;

export type DeliverJobData = { id: string } | { ids: string[] };

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
    private readonly config: AppConfig,
  ) {}

  jobOptions(jobId: string, delayMs = 0): JobOptions {
    return {
      jobId,
      attempts: this.config.get('SMS_MAX_ATTEMPTS'),
      backoff: { type: 'exponential', delay: this.config.get('SMS_RETRY_BASE_MS') },
      delay: Math.max(0, delayMs),
      removeOnComplete: true,
      removeOnFail: true,
    };
  }

  /**
   * One job per message, in one round trip; an id already in Redis is left as it is (Bull ignores
   * it). The job id is the message id unless `jobId` says otherwise (a message deferred from inside
   * its own running job needs a new id, or Bull would ignore it).
   */
  async enqueue(items: { id: string; delayMs?: number; jobId?: string }[]): Promise<void> {
    if (items.length === 0) return;
    await this.queue.addBulk(
      items.map((i) => ({
        name: DeliveryJob.Deliver,
        data: { id: i.id },
        opts: this.jobOptions(i.jobId ?? i.id, i.delayMs),
      })),
    );
  }

  /** The messages of one bulk, CHUNK_SIZE per job. */
  async enqueueChunks(ids: string[], delayMs = 0): Promise<void> {
    const jobs = [];
    for (let i = 0; i < ids.length; i += CHUNK_SIZE) {
      const chunk = ids.slice(i, i + CHUNK_SIZE);
      jobs.push({
        name: DeliveryJob.DeliverChunk,
        data: { ids: chunk },
        opts: this.jobOptions(`chunk:${chunk[0]}`, delayMs),
      });
    }
    for (let i = 0; i < jobs.length; i += 100) await this.queue.addBulk(jobs.slice(i, i + 100));
  }

  async remove(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    await job?.remove().catch(() => undefined);
  }
}
