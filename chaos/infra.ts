/**
 * The chaos run's own Redis and PostgreSQL, on their own ports, so they can be killed and
 * restarted without touching the shared instances on 6379 and 5432.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup';
import { sleep, until } from './wait';

const PG_BIN = process.env.CHAOS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** The first port at or after `preferred` that nothing listens on. */
export async function freePort(preferred: number): Promise<number> {
  for (let port = preferred; port < preferred + 100; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${preferred}..${preferred + 99}`);
}

/** True when something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A redis-server child without persistence: every start is empty. */
export class OwnRedis {
  private proc?: ChildProcess;
  private forget?: () => void;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.proc = proc;
    this.forget = onCleanup(`redis :${this.port}`, () => proc.kill('SIGKILL'));
    if (!(await until(() => accepts(this.port), 10_000, 50)))
      throw new Error(`redis on :${this.port} did not start`);
  }

  /** SIGKILL, as a crashed or evicted Redis. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    this.forget?.();
    this.proc = undefined;
  }

  /** Drops every key (this instance only; the shared Redis is never flushed). */
  async flush(): Promise<void> {
    await this.kill();
    await this.start();
  }
}

/** A PostgreSQL cluster in a temporary directory, run as the postgres user. */
export class OwnPostgres {
  readonly dir: string;

  /**
   * `settings`: more `-c name=value` options, after the defaults below (the last one of a name
   * wins), e.g. `shared_preload_libraries=pg_stat_statements` or `full_page_writes=on`.
   */
  constructor(
    readonly port: number,
    private readonly settings: string[] = [],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'chaos-pg-'));
    chmodSync(this.dir, 0o755);
    onCleanup(`postgres :${port}`, () => {
      try {
        this.pgCtl(['stop', '-m', 'immediate']);
      } catch {
        /* not running */
      }
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  init(): void {
    execFileSync('chown', ['postgres', this.dir]);
    this.asPostgres(
      `${PG_BIN}/initdb -D ${this.data} -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null`,
    );
    // A streaming replica (the topology scenario's `pg_basebackup -R`) connects as postgres over
    // loopback: initdb -A trust writes this line already; say it here so a change there cannot
    // silently break the replica.
    const hba = `${this.data}/pg_hba.conf`;
    if (!/^host\s+replication\s+all\s+127\.0\.0\.1\/32\s+trust/m.test(readFileSync(hba, 'utf8')))
      this.asPostgres(`echo 'host replication all 127.0.0.1/32 trust' >> ${hba}`);
  }

  async start(): Promise<void> {
    const opts = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=300',
      // A replica can stream from it (the defaults of PostgreSQL 15, stated: the topology's replica
      // needs them). pg_basebackup forces full-page writes for the backup's duration itself.
      '-c wal_level=replica',
      '-c max_wal_senders=10',
      ...this.settings.map((x) => `-c ${x}`),
    ].join(' ');
    this.pgCtl(['-l', `${this.dir}/server.log`, '-o', `"${opts}"`, '-w', 'start']);
    if (!(await until(() => accepts(this.port), 10_000, 50)))
      throw new Error(`postgres on :${this.port} did not start`);
  }

  /** A clean, fast shutdown: every client is disconnected, new ones are refused. */
  async stop(): Promise<void> {
    this.pgCtl(['-m', 'fast', '-w', 'stop']);
    await sleep(0);
  }

  /** The postmaster's pid (the first line of postmaster.pid), or undefined when it is not running. */
  postmasterPid(): number | undefined {
    try {
      return Number(readFileSync(`${this.data}/postmaster.pid`, 'utf8').split('\n')[0]) || undefined;
    } catch {
      return undefined;
    }
  }

  private get data(): string {
    return `${this.dir}/data`;
  }

  private pgCtl(args: string[]): void {
    this.asPostgres(`${PG_BIN}/pg_ctl -D ${this.data} ${args.join(' ')} >/dev/null`);
  }

  private asPostgres(command: string): void {
    execFileSync('su', ['postgres', '-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}
