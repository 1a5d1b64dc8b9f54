/**
 * `npm run bench`: measures the service on this machine against the real PostgreSQL and Redis,
 * with the sandbox provider, and writes docs/BENCHMARKS.md. Not part of `npm test`.
 *
 * The service runs as a child process (`node dist/src/main.js`), as in production; this process
 * only drives load and measures, so the two do not share an event loop.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import Bull from 'bull';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { signToken } from '../src/auth/tokens';
import { dropDatabase, ensureDatabase, migrate } from '../src/database/bootstrap';
import { campaignScenario } from './campaign';
import { BenchContext, BenchRow, fmt } from './context';
import { rollupCostScenario, rollupSendPathScenario, statsScenario } from './stats';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sms_bench';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PORT = Number(process.env.BENCH_PORT ?? 3900);
const BASE = `http://127.0.0.1:${PORT}`;
const RUN = Date.now().toString(36);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
let phase = 0;
const CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 100);

const rows: BenchRow[] = [];
const notes: string[] = [];

function token(tenant: number, user?: string): string {
  const claims = user === undefined ? { sub: 'bench', roles: ['admin'] } : { sub: user, roles: [] };
  return signToken({ ...claims, tenant_id: tenant }, SECRET, { expiresInSeconds: 3600 });
}

/** Valid, distinct US numbers (NXX 555 lines libphonenumber accepts). */
function numbers(count: number, offset = 0): string[] {
  const areas = ['202', '212', '312', '415', '617', '713', '305', '206'];
  return Array.from({ length: count }, (_, i) => {
    const k = i + offset;
    return `+1${areas[Math.floor(k / 10000) % areas.length]}555${String(k % 10000).padStart(4, '0')}`;
  });
}

async function spawnService(env: Record<string, string>): Promise<ChildProcess> {
  const prefix = `sms-bench-${RUN}-${++phase}`;
  // BENCH_SERVICE_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the service.
  const nodeArgs = process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, 'dist/src/main.js'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(PORT),
      DATABASE_URL,
      REDIS_URL,
      REDIS_PREFIX: prefix,
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
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
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
  throw new Error('service did not start');
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

/** Peak resident set of a process (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function stopService(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
}

async function countSent(db: Client, batchIds: string[]): Promise<number> {
  const { rows: r } = await db.query(
    `SELECT count(*)::int AS n FROM sms_messages WHERE batch_id = ANY($1) AND status = 'sent'`,
    [batchIds],
  );
  return r[0].n;
}

async function waitSent(db: Client, batchIds: string[], total: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await countSent(db, batchIds);
    if (n >= total) return performance.now();
    if (Date.now() > deadline) throw new Error(`only ${n} of ${total} sent in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function postBulk(
  tenant: number,
  phoneNumbers: string[],
): Promise<{ batchId: string; ms: number; accepted: number }> {
  const started = performance.now();
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
  return { batchId: body.batch_id, ms: performance.now() - started, accepted: body.accepted };
}

/** (a) Bull's own limit: addBulk + process of empty jobs, same concurrency as the worker. */
async function rawBull(total: number): Promise<number> {
  const queue = new Bull(`bench-raw`, REDIS_URL, { prefix: `{sms-bench-raw-${RUN}}` });
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => (finish = r));
  void queue.process('j', CONCURRENCY, async () => {
    done += 1;
    if (done === total) finish();
  });
  await queue.isReady();
  const started = performance.now();
  for (let i = 0; i < total; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, total - i) }, (_, k) => ({
        name: 'j',
        data: { id: `${i + k}` },
        opts: { jobId: `${RUN}-${i + k}`, removeOnComplete: true },
      })),
    );
  }
  await finished;
  const rate = total / ((performance.now() - started) / 1000);
  await queue.obliterate({ force: true });
  await queue.close();
  return rate;
}

async function main(): Promise<void> {
  await dropDatabase(DATABASE_URL).catch(() => undefined);
  await ensureDatabase(DATABASE_URL);
  await migrate(DATABASE_URL);
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  // Every phase starts with no backlog: the messages an earlier phase left queued (the api-only
  // phase (c) accepts thousands that no worker takes) would be re-queued by the new service's
  // sweeper and compete with the phase's own traffic for the same worker slots.
  const startService = async (env: Record<string, string>): Promise<ChildProcess> => {
    await db.query(`UPDATE sms_messages SET status = 'canceled' WHERE status IN ('queued', 'scheduled')`);
    return spawnService(env);
  };
  // What the scenario files (bench/stats.ts, bench/campaign.ts) use of this driver.
  const ctx: BenchContext = {
    db,
    base: BASE,
    token,
    numbers,
    startService,
    stopService,
    postBulk,
    rows,
    notes,
  };
  if (process.argv.includes('--only=campaign')) {
    await campaignScenario(ctx);
    await db.end();
    await dropDatabase(DATABASE_URL).catch(() => undefined);
    report('BENCH-CAMPAIGN');
    return;
  }
  // Issue 11's figures (bench/stats.ts): the stats query (g) and the rollup's write cost (h).
  if (process.argv.includes('--only=stats')) {
    await rollupSendPathScenario(ctx);
    await rollupCostScenario(ctx);
    await statsScenario(ctx);
    await db.end();
    await dropDatabase(DATABASE_URL).catch(() => undefined);
    report('BENCH-STATS');
    return;
  }
  let peakRss = 0;

  // (a)
  const bullRate = await rawBull(20_000);
  rows.push({
    name: '(a) Bull addBulk + process, empty jobs',
    figure: `${fmt(bullRate)} jobs/s`,
    target: 'reference',
    ratio: '',
    met: null,
  });

  // (b) + (d): all roles in one process, sandbox without latency.
  let svc = await startService({ APP_ROLE: 'all', SMS_WORKER_CONCURRENCY: String(CONCURRENCY) });
  await postBulk(1, numbers(100, 90_000)); // warm-up: JIT, pools, prices
  const started = performance.now();
  const first = await postBulk(2, numbers(10_000));
  const second = await postBulk(2, numbers(10_000, 10_000));
  const end = await waitSent(db, [first.batchId, second.batchId], 20_000, 120_000);
  const e2eRate = 20_000 / ((end - started) / 1000);
  const e2eRatio = e2eRate / bullRate;
  rows.push({
    name: '(b) send-bulk, accept → sent (20,000 messages)',
    figure: `${fmt(e2eRate)} msg/s`,
    target: '≥ 50 % of (a)',
    ratio: `${fmt(e2eRatio * 100, 1)} %`,
    met: e2eRatio >= 0.5,
  });
  rows.push({
    name: '(d) accept one 10,000-number send-bulk',
    // The first is accepted by an idle service; the second while the first is being delivered
    // by the same process (role all), which is reported but not what the target measures.
    figure: `${fmt(first.ms)} ms (a second one during delivery of the first: ${fmt(second.ms)} ms)`,
    target: '< 1,000 ms',
    ratio: '',
    met: first.ms < 1000,
  });
  peakRss = Math.max(peakRss, peakRssMiB(svc.pid as number));
  await stopService(svc);
  // `--only=worker`: (a), (b) and (d) alone, printed and not written (the worker path, in ~20 s).
  if (process.argv.includes('--only=worker')) return printOnly(db);
  // (c): the api role, as it is deployed behind a load balancer.
  svc = await startService({ APP_ROLE: 'api' });
  const auth = { Authorization: `Bearer ${token(3)}`, 'Content-Type': 'application/json' };
  const load = (path: string, method: 'GET' | 'POST', body?: string) =>
    autocannon({ url: `${BASE}${path}`, method, headers: auth, body, connections: 50, duration: DURATION_S });
  await load('/api/sms/me', 'GET'); // warm-up
  const bare = await load('/api/sms/me', 'GET');
  const send = await load(
    '/api/sms/send',
    'POST',
    JSON.stringify({
      phone_number: '+12025550123',
      message: 'Your appointment is tomorrow at 2 PM',
      message_type: 'appointment_reminder',
    }),
  );
  const sendOk = send.non2xx === 0 && send.errors === 0;
  if (!sendOk) notes.push(`(c) saw ${send.non2xx} non-2xx answers and ${send.errors} errors.`);
  const ratio = send.requests.average / bare.requests.average;
  rows.push({
    name: '(c) POST /api/sms/send, 50 connections',
    figure: `${fmt(send.requests.average)} req/s, p50 ${send.latency.p50} ms, p99 ${send.latency.p99} ms`,
    target: '≥ 2,000 req/s, p99 ≤ 50 ms',
    ratio: '',
    met: sendOk && send.requests.average >= 2000 && send.latency.p99 <= 50,
  });
  rows.push({
    name: '(c) vs bare authenticated GET /api/sms/me',
    figure: `${fmt(bare.requests.average)} req/s, p99 ${bare.latency.p99} ms`,
    target: 'send ≥ 25 % of bare',
    ratio: `${fmt(ratio * 100, 1)} %`,
    met: ratio >= 0.25,
  });
  peakRss = Math.max(peakRss, peakRssMiB(svc.pid as number));
  await stopService(svc);

  // `--only=core`: (a) to (d) alone, printed and not written (a quick check of the send and worker paths).
  if (process.argv.includes('--only=core')) return printOnly(db);

  // (e): 200 ms provider latency; throughput should be concurrency / 0.2 s.
  const slowConcurrency = 20;
  svc = await startService({
    APP_ROLE: 'all',
    SANDBOX_LATENCY_MS: '200',
    SMS_WORKER_CONCURRENCY: String(slowConcurrency),
  });
  const slowTotal = 1000;
  const slowStart = performance.now();
  const slow = await postBulk(4, numbers(slowTotal, 30_000));
  const slowEnd = await waitSent(db, [slow.batchId], slowTotal, 120_000);
  const slowRate = slowTotal / ((slowEnd - slowStart) / 1000);
  const expected = slowConcurrency / 0.2;
  rows.push({
    name: `(e) 200 ms provider, concurrency ${slowConcurrency}`,
    figure: `${fmt(slowRate, 1)} msg/s`,
    target: `within 10 % of ${fmt(expected)} msg/s`,
    ratio: `${fmt((slowRate / expected) * 100, 1)} %`,
    met: Math.abs(slowRate / expected - 1) <= 0.1,
  });
  peakRss = Math.max(peakRss, peakRssMiB(svc.pid as number));
  await stopService(svc);

  await rollupSendPathScenario(ctx);
  await rollupCostScenario(ctx);
  // `--skip=stats`: the delivery figures alone (the 1,000,000-message stats seed takes minutes).
  if (!process.argv.includes('--skip=stats')) await statsScenario(ctx);
  await campaignScenario(ctx);

  rows.push({
    name: '(f) peak RSS of the service process',
    figure: `${fmt(peakRss)} MiB`,
    target: 'reported',
    ratio: '',
    met: null,
  });

  await db.end();
  await dropDatabase(DATABASE_URL).catch(() => undefined);
  report();
}

/** For the partial runs: the figures so far, printed only, and the bench database dropped. */
async function printOnly(db: Client): Promise<void> {
  await db.end();
  await dropDatabase(DATABASE_URL).catch(() => undefined);
  console.log(rows.map((r) => `${r.name}: ${r.figure} ${r.ratio}`).join('\n'));
}

/** Prints the table and rewrites its block (`BENCH`, or `BENCH-STATS` for `--only=stats`) in docs/BENCHMARKS.md. */
function report(block = 'BENCH'): void {
  const mark = (m: boolean | null) => (m === null ? '' : m ? 'met' : 'MISSED');
  const table = [
    '| measure | figure | target | ratio | |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.figure} | ${r.target} | ${r.ratio} | ${mark(r.met)} |`),
  ].join('\n');
  console.log(table);
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, ${osType()} ${release()}, Node ${process.version}`;
  const auto = [
    '<!-- Written by `npm run bench`; the analysis below the table is edited by hand. -->',
    `Last run: ${new Date().toISOString()} on ${machine}.`,
    `Worker concurrency ${CONCURRENCY} for (a) and (b); load phases ${DURATION_S} s each.`,
    '',
    table,
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
  const path = 'docs/BENCHMARKS.md';
  let doc: string;
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    doc = '# Benchmarks\n\n<!-- BENCH:START -->\n<!-- BENCH:END -->\n';
  }
  const [open, close] = [`<!-- ${block}:START -->`, `<!-- ${block}:END -->`];
  const start = doc.indexOf(open);
  const stop = doc.indexOf(close);
  doc =
    start >= 0 && stop > start
      ? `${doc.slice(0, start)}${open}\n${auto}\n${doc.slice(stop)}`
      : `${doc}\n${open}\n${auto}\n${close}\n`;
  writeFileSync(path, doc);
  console.log(`\nwrote ${path}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
