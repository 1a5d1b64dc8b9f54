/**
 * Fault tests' own Redis and PostgreSQL, on free ports, so they can be killed without touching the
 * shared services. Each start/stop waits until the service answers (or refuses) — no fixed sleeps.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './wait';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => done(true));
  });
}

export async function waitPort(port: number, open: boolean, timeoutMs = 15_000): Promise<void> {
  await eventually(
    async () => ((await canConnect(port)) === open ? true : undefined),
    timeoutMs,
    `port ${port} to be ${open ? 'open' : 'closed'}`,
  );
}

/** A throwaway redis-server (no persistence): start, stop (kill), start again on the same port. */
export class OwnRedis {
  private dir = mkdtempSync(join(tmpdir(), 'sms-redis-'));
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    execFileSync('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--dir',
      this.dir,
      '--pidfile',
      join(this.dir, 'redis.pid'),
    ]);
    await waitPort(this.port, true);
  }

  async stop(): Promise<void> {
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave']);
    await waitPort(this.port, false);
  }

  async cleanup(): Promise<void> {
    if (await canConnect(this.port)) await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A throwaway PostgreSQL cluster (initdb as the postgres user into a temp dir). */
export class OwnPostgres {
  private dir = mkdtempSync(join(tmpdir(), 'sms-pg-'));
  constructor(readonly port: number) {
    chmodSync(this.dir, 0o777);
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private asPostgres(cmd: string): void {
    const run = process.getuid?.() === 0 ? ['su', 'postgres', '-c', cmd] : ['sh', '-c', cmd];
    const r = spawnSync(run[0], run.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  }

  init(): void {
    this.asPostgres(`${PG_BIN}/initdb -D ${this.dir}/data -A trust -U postgres --no-sync >/dev/null`);
  }

  async start(): Promise<void> {
    this.asPostgres(
      `${PG_BIN}/pg_ctl -D ${this.dir}/data -l ${this.dir}/log -w -o "-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null`,
    );
    await waitPort(this.port, true);
  }

  /** Stops at once: connections are cut, new ones refused. */
  async stop(): Promise<void> {
    this.asPostgres(`${PG_BIN}/pg_ctl -D ${this.dir}/data -m immediate -w stop >/dev/null`);
    await waitPort(this.port, false);
  }

  async cleanup(): Promise<void> {
    if (await canConnect(this.port)) await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
