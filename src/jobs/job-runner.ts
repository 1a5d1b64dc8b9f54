import { Injectable } from '@nestjs/common';
import { SweeperService } from '../messaging';
import { JobName, isJobName } from './jobs-queue';
import { RemindersJob } from './reminders.job';
import { RetentionJob } from './retention.job';
import { StatusJob } from './status.job';

/** Runs one job by name, in this process: the queue's worker and the operator's CLI share it. */
@Injectable()
export class JobRunner {
  constructor(
    readonly reminders: RemindersJob,
    private readonly retention: RetentionJob,
    private readonly status: StatusJob,
    private readonly sweeper: SweeperService,
  ) {}

  async run(name: string, tenantId?: number): Promise<unknown> {
    if (!isJobName(name)) throw new Error(`unknown job ${name}`);
    const job: JobName = name;
    switch (job) {
      case 'reminders':
        return tenantId === undefined ? this.reminders.run() : this.reminders.runTenantAll(tenantId);
      case 'retention':
        return this.retention.runLocked();
      case 'status':
        return this.status.runLocked();
      case 'sweep':
        return { queued: await this.sweeper.sweep() };
    }
  }
}
