import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bull';
import type { Queue, JobOptions } from 'bull';
import { AppConfig } from '../config/app-config';

export const DELIVERY_QUEUE = 'sms-delivery';

/** Every job name on the delivery queue; the processor registers one handler for each. */
export enum DeliveryJob {
  Deliver = 'deliver',
}

export interface DeliverJobData {
  id: string;
}

/** Adds delivery jobs. The Bull job id is the message id, so a message is queued once. */
@Injectable()
export class DeliveryQueue {
  constructor(
    @InjectQueue(DELIVERY_QUEUE) readonly queue: Queue<DeliverJobData>,
    private readonly config: AppConfig,
  ) {}

  jobOptions(id: string, delayMs = 0): JobOptions {
    return {
      jobId: id,
      attempts: this.config.get('SMS_MAX_ATTEMPTS'),
      backoff: { type: 'exponential', delay: this.config.get('SMS_RETRY_BASE_MS') },
      delay: Math.max(0, delayMs),
      removeOnComplete: true,
      removeOnFail: true,
    };
  }

  /** Adds jobs in one round trip; an id already in Redis is left as it is (Bull ignores it). */
  async enqueue(items: { id: string; delayMs?: number }[]): Promise<void> {
    if (items.length === 0) return;
    await this.queue.addBulk(
      items.map((i) => ({
        name: DeliveryJob.Deliver,
        data: { id: i.id },
        opts: this.jobOptions(i.id, i.delayMs),
      })),
    );
  }

  async remove(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    await job?.remove().catch(() => undefined);
  }
}
