/**
 * A PostgreSQL primary and a streaming replica of it, both throwaway, on free loopback ports: for
 * the read-replica tests and the topology chaos test. The shared server on 5432 is never touched
 * (its pg_hba refuses replication connections, and it must not be reconfigured): the primary is our
 * own `initdb` cluster, whose defaults (wal_level replica, max_wal_senders 10, `host replication`
 * trusted on 127.0.0.1) stream without a restart.
 *
 *   const pair = await PgReplicaPair.start('sms_replica'); // primary migrated, replica caught up
 *   pair.primaryUrl / pair.replicaUrl
 *   await pair.replica.stop(); await pair.replica.start();
 *   await pair.replica.pauseReplay(); await pair.replica.resumeReplay();
 *   await pair.cleanup();
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureDatabase, migrate } from '../../src/database/bootstrap';
import { freePort, OwnPostgres, waitPort } from './own-services';
import { eventually } from './wait';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

function asPostgres(cmd: string): void {
  const run = process.getuid?.() === 0 ? ['su', 'postgres', '-c', cmd] : ['sh', '-c', cmd];
  const r = spawnSync(run[0], run.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
}

/** One statement on a server, on a connection of its own (a stopped server answers fast: refused). */
export async function queryOnce<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A hot standby made with `pg_basebackup -R -X stream` from a primary on loopback. */
export class PgStandby {
  private readonly dir = mkdtempSync(join(tmpdir(), 'sms-pg-standby-'));
  constructor(
    readonly primaryPort: number,
    readonly port: number,
    /** More `-c name=value` options: a hot standby needs max_connections (and the like) ≥ the primary's. */
    private readonly settings: string[] = [],
  ) {
    chmodSync(this.dir, 0o777);
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** The replica's data directory (for a last-resort `pg_ctl stop` from a signal handler). */
  get dataDir(): string {
    return `${this.dir}/data`;
  }

  /** Copies the primary (streaming the WAL of the copy) and writes standby.signal + primary_conninfo; `-c fast`: an immediate checkpoint (the default, spread, waits minutes). */
  create(): void {
    asPostgres(
      `${PG_BIN}/pg_basebackup -h 127.0.0.1 -p ${this.primaryPort} -U postgres -D ${this.dir}/data -R -X stream -c fast --no-sync`,
    );
  }

  async start(): Promise<void> {
    asPostgres(
      `${PG_BIN}/pg_ctl -D ${this.dir}/data -l ${this.dir}/log -w -o "-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c hot_standby=on -c fsync=off -c wal_receiver_status_interval=1s${this.settings.map((x) => ` -c ${x}`).join('')}" start >/dev/null`,
    );
    await waitPort(this.port, true);
  }

  /** Stops at once: connections cut, new ones refused. */
  async stop(): Promise<void> {
    asPostgres(`${PG_BIN}/pg_ctl -D ${this.dir}/data -m immediate -w stop >/dev/null`);
    await waitPort(this.port, false);
  }

  /** Stops applying WAL (it keeps receiving it): reads see the data as of now. */
  async pauseReplay(database = 'postgres'): Promise<void> {
    await queryOnce(this.url(database), 'SELECT pg_wal_replay_pause()');
  }

  async resumeReplay(database = 'postgres'): Promise<void> {
    await queryOnce(this.url(database), 'SELECT pg_wal_replay_resume()');
  }

  /** Waits until the replica has replayed up to `lsn` (e.g. the primary's pg_current_wal_lsn()). */
  async waitForReplay(lsn: string, database = 'postgres', timeoutMs = 30_000): Promise<void> {
    await eventually(
      async () => {
        const [r] = await queryOnce<{ ok: boolean }>(
          this.url(database),
          'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok',
          [lsn],
        );
        return r.ok ? true : undefined;
      },
      timeoutMs,
      `the replica to replay ${lsn}`,
    );
  }

  async cleanup(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An own primary (initdb) with a database migrated to the current schema, and a replica of it. */
export class PgReplicaPair {
  private constructor(
    readonly primary: OwnPostgres,
    readonly replica: PgStandby,
    readonly database: string,
  ) {}

  get primaryUrl(): string {
    return this.primary.url(this.database);
  }

  get replicaUrl(): string {
    return this.replica.url(this.database);
  }

  static async start(database = 'sms_replica'): Promise<PgReplicaPair> {
    const primary = new OwnPostgres(await freePort());
    const replica = new PgStandby(primary.port, await freePort());
    const pair = new PgReplicaPair(primary, replica, database);
    try {
      primary.init();
      await primary.start();
      const url = primary.url(database);
      await ensureDatabase(url);
      await migrate(url);
      replica.create();
      await replica.start();
      await pair.caughtUp();
      return pair;
    } catch (e) {
      // A start that fails half-way leaves no server behind.
      await pair.cleanup();
      throw e;
    }
  }

  /** Waits until the replica has replayed everything the primary has written so far. */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    const [{ lsn }] = await queryOnce<{ lsn: string }>(
      this.primaryUrl,
      'SELECT pg_current_wal_lsn()::text AS lsn',
    );
    await this.replica.waitForReplay(lsn, this.database, timeoutMs);
  }

  async cleanup(): Promise<void> {
    await this.replica.cleanup();
    await this.primary.cleanup();
  }
}
