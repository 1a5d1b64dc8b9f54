import { Injectable } from '@nestjs/common';
import { RollupService } from '../analytics';
import { WebhookDispatcher } from '../callbacks';
import { CampaignsService } from '../campaigns';
import { AppConfig } from '../config/app-config';
import { ChannelFallbacks, LedgerPartitions, OutcomeResolver, SweeperService } from '../messaging';
import { AlertsEvaluator } from '../monitoring';
import { JobName } from './job-registry';
import { RemindersJob } from './reminders.job';
import { RetentionJob } from './retention.job';
import { StatusJob } from './status.job';

export interface RunOptions {
  /** Reminders only: one tenant's. */
  tenantId?: number;
}

/** What one job does; `JobRunner` wraps both methods in the job's cluster-once rule. */
export interface JobHandler {
  /** The work, once, now, in this process; resolves with its result when it is done. */
  run(opts: RunOptions): Promise<unknown>;
  /**
   * What the schedule's tick planned for `at` does, when that is not `run`: a `queue` job's tick
   * only enqueues; the callbacks tick starts its sends without waiting for them.
   */
  tick?(at: Date): Promise<unknown>;
}

export type JobHandlerMap = Record<JobName, JobHandler>;

/**
 * One handler per registered job, each calling the method its feature module exports for the
 * work. The jobs module owns when and how often; the features own what.
 */
@Injectable()
export class JobHandlers {
  readonly map: JobHandlerMap;

  constructor(
    sweeper: SweeperService,
    resolver: OutcomeResolver,
    campaigns: CampaignsService,
    dispatcher: WebhookDispatcher,
    rollup: RollupService,
    alerts: AlertsEvaluator,
    reminders: RemindersJob,
    status: StatusJob,
    retention: RetentionJob,
    fallbacks: ChannelFallbacks,
    partitions: LedgerPartitions,
    config: AppConfig,
  ) {
    this.map = {
      sweep: { run: () => sweeper.pass({ idleNow: true }), tick: () => sweeper.pass() },
      outcomes: { run: () => resolver.resolve() },
      campaigns: { run: () => campaigns.tick() },
      callbacks: { run: () => dispatcher.runOnce(), tick: () => dispatcher.tick() },
      rollup: { run: async () => ({ folded: await rollup.fold() }) },
      alerts: {
        run: async () => {
          await alerts.evaluate();
          return { evaluated: true };
        },
      },
      reminders: {
        run: ({ tenantId }) => (tenantId === undefined ? reminders.run() : reminders.runTenantAll(tenantId)),
        tick: (at) => reminders.enqueue(at),
      },
      status: { run: () => status.run(), tick: (at) => status.enqueue(at) },
      retention: { run: () => retention.run(), tick: (at) => retention.enqueue(at) },
      fallbacks: { run: () => fallbacks.pass() },
      partitions: {
        run: async () => ({
          created: await partitions.ensureAhead(config.get('SMS_PARTITIONS_AHEAD_MONTHS')),
        }),
      },
    };
  }
}
