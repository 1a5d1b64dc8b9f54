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
  /**
   * Taken as a transaction-level lock around each callback claim, so every claim counts the
   * deliveries in flight that the claims before it committed (the per-endpoint cap).
   */
  CallbackClaim = 7_302_170,
  /** The `partitions` job: the ledger's months created ahead. */
  Partitions = 7_302_180,
}

/**
 * First keys of the per-tenant transaction locks (`pg_advisory_xact_lock(key, tenant_id)`: the
 * two-integer key space, apart from the single keys above).
 */
export enum TenantLock {
  /** One campaign execute at a time, so two cannot both squeeze under campaign_daily_limit. */
  CampaignExecute = 7_302_130,
  /** One accept at a time for a tenant with a monthly_spend_cap: read spend, then insert. */
  SpendCap = 7_302_160,
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
