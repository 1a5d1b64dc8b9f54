import { DataSource } from 'typeorm';

/** Advisory lock keys of the cluster-wide jobs (src/jobs/job-registry.ts); one replica runs each at a time. */
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
