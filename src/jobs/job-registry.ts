import type { ConfigValues } from '../config/app-config';
import { LockKey } from '../database/advisory-lock';

/**
 * Every periodic loop of the service, by name. A name here needs a handler (`JobHandlers`) or the
 * app does not start; the worker role schedules each one (`JobScheduler`), and
 * `npm run job -- <name>` runs it once.
 */
export const JOB_NAMES = [
  'sweep',
  'outcomes',
  'campaigns',
  'callbacks',
  'rollup',
  'alerts',
  'reminders',
  'status',
  'retention',
  'fallbacks',
  'partitions',
] as const;
export type JobName = (typeof JOB_NAMES)[number];

export function isJobName(s: string): s is JobName {
  return (JOB_NAMES as readonly string[]).includes(s);
}

type SettingOf<T> = { [K in keyof ConfigValues]: ConfigValues[K] extends T ? K : never }[keyof ConfigValues];

/** When the worker role runs a job: every N ms (a setting in ms) or on a cron expression (a setting). */
export type JobSchedule =
  { every: SettingOf<number>; cron?: never } | { cron: SettingOf<string>; every?: never };

/**
 * How a job runs once per cluster however many workers tick:
 * - `lock`: every worker ticks; the one that takes the PostgreSQL advisory lock runs, the others
 *   skip that tick (an operator's run skips too while another process holds the lock);
 * - `queue`: the tick only adds jobs to the `sms-jobs` Bull queue, with ids that name the planned
 *   tick, so replicas ticking together add each once; one worker runs each job. `tickLock`: the
 *   enqueue also runs under that advisory lock; `runLock`: so does the run (queued or an operator's);
 * - `every-worker`: every worker runs it; the work is shared out by the rows themselves (claimed
 *   with FOR UPDATE SKIP LOCKED, or folded under a transaction-level lock).
 */
export type ClusterRule =
  | { kind: 'lock'; key: LockKey }
  | { kind: 'queue'; tickLock?: LockKey; runLock?: LockKey }
  | { kind: 'every-worker'; shared: string };

export interface JobDefinition {
  /** One line for `npm run job -- --help`. */
  description: string;
  schedule: JobSchedule;
  rule: ClusterRule;
}

/** The registry: what each job does, its schedule setting and its cluster-once rule. */
export const JOBS: Record<JobName, JobDefinition> = {
  sweep: {
    description:
      'end waiting messages past their validity period expired; queue again the pending messages Redis lost (all of them when its jobs are gone; idle ones once a minute)',
    schedule: { every: 'SMS_SWEEP_INTERVAL_MS' },
    rule: { kind: 'lock', key: LockKey.Sweeper },
  },
  outcomes: {
    description:
      'settle attempts of unknown outcome (a dead worker, a provider timeout) by asking the provider',
    schedule: { cron: 'SMS_OUTCOMES_CRON' },
    rule: { kind: 'lock', key: LockKey.ResolveOutcomes },
  },
  campaigns: {
    description: 'start due scheduled campaigns, re-add lost snapshot jobs, complete finished campaigns',
    schedule: { cron: 'SMS_CAMPAIGNS_CRON' },
    rule: { kind: 'lock', key: LockKey.Campaigns },
  },
  callbacks: {
    description:
      'send due callback deliveries (signed webhooks to tenant endpoints), fairly across endpoints',
    schedule: { every: 'WEBHOOK_DISPATCH_INTERVAL_MS' },
    rule: {
      kind: 'every-worker',
      shared: 'each row is claimed by one worker (FOR UPDATE SKIP LOCKED, a lease)',
    },
  },
  rollup: {
    description: 'fold pending stats deltas into the daily rollup',
    schedule: { every: 'SMS_ROLLUP_FOLD_INTERVAL_MS' },
    rule: {
      kind: 'every-worker',
      shared: 'one folds at a time (a transaction-level advisory lock per chunk)',
    },
  },
  alerts: {
    description: 'evaluate cost and failure-rate alerts',
    schedule: { every: 'SMS_ALERT_INTERVAL_MS' },
    rule: { kind: 'lock', key: LockKey.Alerts },
  },
  reminders: {
    description: 'send due appointment reminders (every tenant, or only --tenant N)',
    schedule: { cron: 'SMS_REMINDERS_CRON' },
    rule: { kind: 'queue', tickLock: LockKey.AppointmentReminders },
  },
  status: {
    description: 'settle messages stuck in sending and ask providers about unconfirmed ones',
    schedule: { cron: 'SMS_STATUS_CRON' },
    rule: { kind: 'queue', runLock: LockKey.Reconcile },
  },
  retention: {
    description:
      'drop ledger months past SMS_RETENTION_DAYS, delete the other finished messages past it, expired keys and codes',
    schedule: { cron: 'SMS_RETENTION_CRON' },
    rule: { kind: 'queue', runLock: LockKey.Retention },
  },
  fallbacks: {
    description:
      'send once as SMS the WhatsApp messages with fallback_channel that failed or got no receipt in time',
    schedule: { every: 'SMS_FALLBACK_INTERVAL_MS' },
    rule: {
      kind: 'every-worker',
      shared: "each fallback is taken by one conditional UPDATE of the original's fallback_reason",
    },
  },
  partitions: {
    description:
      "create the ledger's monthly partitions for this month and SMS_PARTITIONS_AHEAD_MONTHS ahead (idempotent)",
    schedule: { cron: 'SMS_PARTITIONS_CRON' },
    rule: { kind: 'lock', key: LockKey.Partitions },
  },
};

/** The schedule's setting name. */
export function scheduleSetting(s: JobSchedule): keyof ConfigValues {
  return s.every ?? s.cron;
}

/** The rule in a few words, for `--help` and logs. */
export function describeRule(rule: ClusterRule): string {
  switch (rule.kind) {
    case 'lock':
      return 'advisory lock: one worker at a time, the others skip the tick';
    case 'queue':
      return `queued on sms-jobs with one job id per tick, one worker runs it${rule.runLock ? ' (under an advisory lock)' : ''}${rule.tickLock ? ' (the tick under an advisory lock)' : ''}`;
    case 'every-worker':
      return `every worker runs it: ${rule.shared}`;
  }
}
