import { Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { unavailableDependencyOf } from '../common/errors';
import { within } from '../common/within';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';

/** Where reads that may be served by the replica go now, and why. */
export type ReplicaStatus =
  /** The replica answers and is at most DATABASE_READ_MAX_LAG_MS behind: it serves them. */
  | 'replica'
  /** It answers but is further behind: the primary serves them until it catches up. */
  | 'lagging'
  /** It does not answer (or is not a standby): the primary serves them until a check succeeds. */
  | 'down';

export interface ReplicaState {
  status: ReplicaStatus;
  /** How stale a read on the replica would be now, in ms (null: never measured). */
  lagMs: number | null;
  /** WAL bytes the primary has written that the replica has not replayed (null: never measured). */
  lagBytes: number | null;
  maxLagMs: number;
  /** Why it is down (an error message), else null. */
  error: string | null;
  checkedAt: Date | null;
}

/** `application_name` of the replica's connections (pg_stat_activity shows who reads there). */
export const REPLICA_APPLICATION_NAME = 'sms-service-replica-reads';

/** A replica that takes longer than this to connect and answer a check counts as not answering. */
const CHECK_TIMEOUT_MS = 1000;
/** The primary's WAL position is sampled within this, else the check goes on without a sample. */
const SAMPLE_TIMEOUT_MS = 800;
/** At most this many primary LSN samples are kept while the replica is behind (one per check). */
const MAX_SAMPLES = 10_000;

/** A WAL position `X/Y` as a byte number. */
export function parseLsn(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** The primary's WAL position at a moment. */
export interface LsnSample {
  at: number;
  lsn: bigint;
}

/**
 * How stale the replica is, from the primary's positions sampled at each check (oldest first) and
 * the position the replica has replayed: 0 when it has replayed the newest sample; otherwise the
 * time since the moment the primary was where the replica is now, interpolated between the two
 * samples around it. Behind every sample: `behindAll` (the replica's own age of its last replayed
 * transaction, or the oldest sample's age). Pure; `samples` is pruned to what later calls need.
 */
export function replicaLag(
  samples: LsnSample[],
  replayed: bigint,
  now: number,
  behindAll: number | null,
): { lagMs: number; lagBytes: number; kept: LsnSample[] } {
  if (samples.length === 0) return { lagMs: 0, lagBytes: 0, kept: [] };
  const newest = samples[samples.length - 1];
  const lagBytes = newest.lsn > replayed ? Number(newest.lsn - replayed) : 0;
  let i = samples.length - 1;
  while (i >= 0 && samples[i].lsn > replayed) i--;
  if (i === samples.length - 1) return { lagMs: 0, lagBytes, kept: [newest] };
  const kept = samples.slice(Math.max(i, 0)).slice(-MAX_SAMPLES);
  if (i < 0) return { lagMs: Math.max(0, behindAll ?? now - samples[0].at), lagBytes, kept };
  const [a, b] = [samples[i], samples[i + 1]];
  const fraction = b.lsn === a.lsn ? 1 : Number(replayed - a.lsn) / Number(b.lsn - a.lsn);
  const caughtUpTo = a.at + (b.at - a.at) * fraction;
  return { lagMs: Math.max(0, Math.round(now - caughtUpTo)), lagBytes, kept };
}

/**
 * Whether a read that failed on the replica should run again on the primary: the replica could not
 * be reached or was lost (connection errors, shutdown), or canceled the read for a conflict with
 * recovery (SQLSTATE 40001 on a standby). An error in the query itself would fail there too.
 */
function replicaOnlyFailure(e: unknown): { retry: boolean; down: boolean } {
  if (e instanceof ReplicaTimeoutError || unavailableDependencyOf(e) === 'database')
    return { retry: true, down: true };
  const code =
    (e as { driverError?: { code?: string }; code?: string }).driverError?.code ??
    (e as { code?: string }).code;
  return { retry: code === '40001', down: false };
}

class ReplicaTimeoutError extends Error {}

function inTime<T>(p: Promise<T>, ms: number): Promise<T> {
  return within(p, ms, () => new ReplicaTimeoutError(`no answer within ${ms} ms`));
}

/**
 * The read replica (`DATABASE_READ_URL`): a second data source over a PostgreSQL streaming replica
 * that history, stats, reports and exports read through `run`. Without the setting `run` always
 * uses the primary and nothing else happens here.
 *
 * Each process checks the replica at most once per DATABASE_READ_CHECK_INTERVAL_MS, in the
 * background of the read, readiness probe or scrape that finds the last check older than that (not
 * per query, so a dead replica costs no connect timeout per request; no timer: a periodic loop here
 * would be a job, and jobs run in the worker role only): the primary's `pg_current_wal_lsn()` is
 * sampled, the replica's `pg_last_wal_replay_lsn()` is read, and the lag is the time since the
 * primary was where the replica is now (see `replicaLag`). Reads go to the replica while it
 * answers and the lag plus the age of that check is at most DATABASE_READ_MAX_LAG_MS, else to the
 * primary; the next good check brings them back. A read the replica fails for being unreachable
 * runs again on the primary (and the replica counts as down until a check succeeds), so a replica
 * that dies between checks fails no request.
 *
 * Reads of a caller's own fresh writes never come here: they keep the primary (docs/ARCHITECTURE.md
 * "Read replica" lists the routes).
 */
@Injectable()
export class ReplicaReads implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ReplicaReads.name);
  private readonly url: string | undefined;
  private replica: DataSource | null = null;
  private samples: LsnSample[] = [];
  private current: ReplicaState;
  /** When the last check ended (Date.now(): the lag is real time, whatever clock the app is given). */
  private lastCheck = 0;
  private readonly interval: number;
  private checking: Promise<void> | null = null;
  private connecting: Promise<DataSource> | null = null;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly primary: DataSource,
    private readonly config: AppConfig,
  ) {
    this.url = config.get('DATABASE_READ_URL');
    this.interval = config.get('DATABASE_READ_CHECK_INTERVAL_MS');
    this.current = {
      status: 'down',
      lagMs: null,
      lagBytes: null,
      maxLagMs: config.get('DATABASE_READ_MAX_LAG_MS'),
      error: 'not checked yet',
      checkedAt: null,
    };
  }

  /** Whether DATABASE_READ_URL is set. */
  get configured(): boolean {
    return this.url !== undefined;
  }

  /** The state of the last check. */
  state(): ReplicaState {
    return { ...this.current };
  }

  /**
   * The state, checked again first when the last check is older than the interval (readiness,
   * metrics); waiting at most `waitMs` for that check (the last state otherwise).
   */
  async fresh(waitMs = CHECK_TIMEOUT_MS + SAMPLE_TIMEOUT_MS): Promise<ReplicaState> {
    if (this.configured && Date.now() - this.lastCheck >= this.interval)
      await inTime(this.check(), waitMs).catch(() => undefined);
    return this.state();
  }

  /**
   * Runs a read on the replica when it serves reads now, else on the primary. A read the replica
   * could not serve (unreachable, lost, a recovery conflict) runs again on the primary.
   */
  async run<T>(read: (ds: DataSource) => Promise<T>): Promise<T> {
    const replica = this.serving();
    if (!replica) return read(this.primary);
    try {
      return await read(replica);
    } catch (e) {
      const failure = replicaOnlyFailure(e);
      if (!failure.retry) throw e;
      if (failure.down) this.markDown(e);
      return read(this.primary);
    }
  }

  /** The replica when it may serve a read now; a stale check starts the next one (not awaited). */
  private serving(): DataSource | null {
    if (!this.configured) return null;
    const age = Date.now() - this.lastCheck;
    if (age >= this.interval) void this.check();
    const s = this.current;
    return s.status === 'replica' && (s.lagMs ?? 0) + age <= s.maxLagMs ? this.replica : null;
  }

  async onModuleInit(): Promise<void> {
    // The first check before the app serves, so it starts on the right database.
    if (this.configured) await this.check();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.checking?.catch(() => undefined);
    await this.connecting?.catch(() => undefined);
    if (this.replica?.isInitialized) await this.replica.destroy().catch(() => undefined);
  }

  /** Measures the replica now (one check at a time; a call during a check waits for it). */
  check(): Promise<void> {
    this.checking ??= this.measure().finally(() => {
      this.lastCheck = Date.now();
      this.checking = null;
    });
    return this.checking;
  }

  private async measure(): Promise<void> {
    if (this.stopped) return;
    try {
      const [{ lsn }] = (await inTime(
        this.primary.query('SELECT pg_current_wal_lsn()::text AS lsn'),
        SAMPLE_TIMEOUT_MS,
      )) as { lsn: string }[];
      this.samples.push({ at: Date.now(), lsn: parseLsn(lsn) });
    } catch {
      // The primary not answering says nothing about the replica; the lag is measured against the
      // samples taken so far.
    }
    try {
      const [r] = (await inTime(
        this.connect().then((ds) =>
          ds.query(
            `SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replayed,
                    (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS replay_age_ms`,
          ),
        ),
        CHECK_TIMEOUT_MS,
      )) as { standby: boolean; replayed: string | null; replay_age_ms: number | null }[];
      // A promoted or wrong server would answer with data that no longer follows the primary.
      if (!r.standby || r.replayed === null)
        throw new Error('DATABASE_READ_URL is not a standby in recovery');
      const lag = replicaLag(this.samples, parseLsn(r.replayed), Date.now(), r.replay_age_ms);
      this.samples = lag.kept;
      const status: ReplicaStatus = lag.lagMs <= this.current.maxLagMs ? 'replica' : 'lagging';
      if (status !== this.current.status)
        this.logger.log({ status, lagMs: lag.lagMs, lagBytes: lag.lagBytes }, `read replica: ${status}`);
      this.current = {
        ...this.current,
        status,
        lagMs: lag.lagMs,
        lagBytes: lag.lagBytes,
        error: null,
        checkedAt: new Date(),
      };
    } catch (e) {
      this.markDown(e);
    }
  }

  private markDown(e: unknown): void {
    const error = e instanceof Error ? e.message : String(e);
    if (this.current.status !== 'down')
      this.logger.warn({ err: error }, 'read replica down: reads go to the primary');
    this.current = { ...this.current, status: 'down', error, checkedAt: new Date() };
  }

  /** The replica's data source, connected on first use (a replica down at start is retried by each check). */
  private connect(): Promise<DataSource> {
    if (this.replica?.isInitialized) return Promise.resolve(this.replica);
    // One attempt at a time: a check that gave up waiting leaves it running, and the next joins it.
    this.connecting ??= this.initialize().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async initialize(): Promise<DataSource> {
    const options = {
      ...dataSourceOptions(this.url as string, this.config.get('DATABASE_POOL_SIZE'), {
        acquireTimeoutMs: this.config.get('DATABASE_ACQUIRE_TIMEOUT_MS'),
        statementTimeoutMs: this.config.get('DATABASE_STATEMENT_TIMEOUT_MS'),
      }),
      // The entities the features registered on the primary's data source (autoLoadEntities).
      entities: this.primary.options.entities,
      migrations: [],
      applicationName: REPLICA_APPLICATION_NAME,
    } as DataSourceOptions;
    const ds = new DataSource(options);
    await ds.initialize();
    if (this.stopped) {
      await ds.destroy();
      throw new Error('shutting down');
    }
    this.replica = ds;
    return ds;
  }
}

/** Provides `ReplicaReads` (one instance for the app) to the modules that read through it. */
@Module({ providers: [ReplicaReads], exports: [ReplicaReads] })
export class ReplicaReadsModule {}
