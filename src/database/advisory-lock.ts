import type { LoggerService } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Advisory lock keys of the cluster-wide jobs; one replica runs each at a time. */
export enum LockKey {
  Sweeper = 7_302_101,
  Reconcile = 7_302_102,
  Retention = 7_302_103,
  AppointmentReminders = 7_302_104,
  ResolveOutcomes = 7_302_120,
  Alerts = 7_302_130,
  Campaigns = 7_302_140,
  /** Taken per chunk as a transaction-level lock by the stats fold. */
  RollupFold = 7_302_150,
}

/**
 * Runs `fn` only if this process takes the PostgreSQL advisory lock; another replica holding it
 * means the job is already running there, so this one skips (returns undefined).
 */
export async function withAdvisoryLock<T>(
  ds: DataSource,
  key: LockKey,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [key]);
    if (!locked) return undefined;
    try {
      return await fn();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [key]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * A cron tick: runs `job` on the one replica that takes the lock; a failure is logged (with the
 * job's name) and the next tick tries again, so one bad run never stops the schedule.
 */
export async function runCronJob(
  ds: DataSource,
  key: LockKey,
  logger: LoggerService,
  name: string,
  job: () => Promise<unknown>,
): Promise<void> {
  try {
    await withAdvisoryLock(ds, key, job);
  } catch (e) {
    logger.error({ err: String(e) }, `${name} failed`);
  }
}
