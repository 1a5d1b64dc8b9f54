/**
 * The service under measurement: a child process started from a build's own dist
 * (`node <dir>/dist/src/main.js`, as in production), against the bench database and Redis, and
 * that database created and migrated by the build's own migration CLI.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { signToken } from '../src/auth/tokens';
import { dropDatabase } from '../src/database/bootstrap';
import type { Build } from './context';

export const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sms_bench';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PORT = Number(process.env.BENCH_PORT ?? 3900);
export const BASE = `http://127.0.0.1:${PORT}`;
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
/** Every Redis prefix of this bench process starts with it (one per service start). */
export const RUN = Date.now().toString(36);
let started = 0;
/** The Redis prefix of each service started (its keys are deleted when it stops). */
const prefixes = new WeakMap<ChildProcess, string>();

/** What every start of the service gets; a phase adds or overrides settings. */
export function baseEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORT: String(PORT),
    DATABASE_URL,
    REDIS_URL,
    JWT_SECRET: SECRET,
    // Production serves /metrics only with a token.
    METRICS_TOKEN: 'bench-metrics-token-0123456789',
    LOG_LEVEL: 'warn',
    DB_MIGRATE_ON_START: 'false',
    SMS_ADMIN_RATE_LIMIT: '1000000000',
    // Production refuses an implicit sandbox; one token drives the whole load.
    SMS_PROVIDERS: 'sandbox',
    SMS_REQUEST_RATE_LIMIT: '1000000',
    SMS_BULK_MAX: '10000',
    SANDBOX_LATENCY_MS: '0',
    SANDBOX_DELIVERY_DELAY_MS: '3600000',
  };
}

export function token(tenant: number, user?: string): string {
  const claims = user === undefined ? { sub: 'bench', roles: ['admin'] } : { sub: user, roles: [] };
  return signToken({ ...claims, tenant_id: tenant }, SECRET, { expiresInSeconds: 3600 });
}

/** Valid, distinct US numbers (NXX 555 lines libphonenumber accepts). */
export function numbers(count: number, offset = 0): string[] {
  const areas = ['202', '212', '312', '415', '617', '713', '305', '206'];
  return Array.from({ length: count }, (_, i) => {
    const k = i + offset;
    return `+1${areas[Math.floor(k / 10000) % areas.length]}555${String(k % 10000).padStart(4, '0')}`;
  });
}

/** Runs a command to its end, its output passed through; throws on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) exited ${code}`)),
    );
  });
}

/** A fresh bench database with the build's own migrations (its migration CLI, from its dist). */
export async function freshDatabase(build: Build): Promise<void> {
  await dropDatabase(DATABASE_URL).catch(() => undefined);
  await run(process.execPath, [join(build.dir, 'dist/src/database/cli.js'), 'migration:run'], {
    cwd: build.dir,
    env: { ...process.env, ...baseEnv(), NODE_ENV: 'development', LOG_LEVEL: 'warn' },
  });
}

export async function dropBenchDatabase(): Promise<void> {
  await dropDatabase(DATABASE_URL).catch(() => undefined);
}

/** Starts `node <build>/dist/src/main.js` with its own Redis prefix; resolves once it serves. */
export async function spawnService(build: Build, env: Record<string, string>): Promise<ChildProcess> {
  const prefix = `sms-bench-${RUN}-${++started}`;
  // BENCH_SERVICE_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the service.
  const nodeArgs = process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, join(build.dir, 'dist/src/main.js')], {
    cwd: build.dir,
    env: { ...process.env, ...baseEnv(), REDIS_PREFIX: prefix, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  prefixes.set(child, prefix);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${BASE}/health`)).ok) {
        if (env.APP_ROLE !== 'api') await sweeperStarted(prefix, deadline);
        return child;
      }
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`the service of ${build.role} (${build.rev}) did not start`);
}

/**
 * A worker's first sweep finds its Redis prefix new (no sentinel), which is what a Redis that
 * lost its jobs looks like, and re-queues every queued row as a job of its own. That recovery is
 * measured by `npm run chaos`; a phase here measures steady delivery, so it starts after it.
 */
async function sweeperStarted(prefix: string, deadline: number): Promise<void> {
  const redis = new IORedis(REDIS_URL);
  try {
    while (!(await redis.exists(`{${prefix}}:sms-delivery:sweeper-epoch`))) {
      if (Date.now() > deadline) throw new Error('the sweeper did not run');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    redis.disconnect();
  }
}

/** Peak resident set of a process (VmHWM), in MiB; NaN once it is gone. */
export function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export async function stopService(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited; // gone before its keys are: a live process could still write them
  }
  const prefix = prefixes.get(child);
  if (prefix) await dropRedisPrefix(prefix);
}

/**
 * Deletes a stopped service's keys (`{<prefix>}:…` and `<prefix>:…`): an api-only phase leaves its
 * ~30,000 jobs behind (no worker takes them), and run after run they filled the shared Redis
 * (600 MiB after a dozen runs).
 */
async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new IORedis(REDIS_URL);
  try {
    const stream = redis.scanStream({ match: `*${prefix}[}:]*`, count: 5000 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
  } finally {
    redis.disconnect();
  }
}

/** POST /api/sms/send-bulk as the tenant's admin; throws unless every number was accepted. */
export async function postBulk(
  tenant: number,
  phoneNumbers: string[],
): Promise<{ batchId: string; ms: number; accepted: number }> {
  const t0 = performance.now();
  const res = await fetch(`${BASE}/api/sms/send-bulk`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token(tenant)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      phone_numbers: phoneNumbers,
      message: 'Important announcement: Training session rescheduled',
    }),
  });
  const body = (await res.json()) as { batch_id: string; accepted: number; rejected: unknown[] };
  if (res.status !== 202)
    throw new Error(`send-bulk answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  if (body.rejected.length) throw new Error(`send-bulk rejected ${body.rejected.length} numbers`);
  return { batchId: body.batch_id, ms: performance.now() - t0, accepted: body.accepted };
}
