/**
 * The send and worker paths: (a) Bull alone, (b) send-bulk accept → sent and (d) the accept of one
 * 10,000-number bulk, (c) `POST /api/sms/send` against the bare authenticated route, (e) a slow
 * provider. Each is a phase of bench/run.ts.
 */
import autocannon from 'autocannon';
import Bull from 'bull';
import IORedis from 'ioredis';
import type { Client } from 'pg';
import { BenchContext, Figure, fmt } from '../context';
import { CpuSnapshot, cpuPerUnitUs, cpuSnapshot } from '../cpu';
import { REDIS_URL, RUN } from '../service';

/** Worker concurrency of (a) and (b). */
export const CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 100);
/** Seconds of each autocannon load of (c). */
export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);

async function countSent(db: Client, batchIds: string[]): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM sms_messages WHERE batch_id = ANY($1) AND status = 'sent'`,
    [batchIds],
  );
  return rows[0].n;
}

/** Resolves at the time (performance.now()) the batches' `total` rows are all `sent`. */
export async function waitSent(
  db: Client,
  batchIds: string[],
  total: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await countSent(db, batchIds);
    if (n >= total) return performance.now();
    if (Date.now() > deadline) throw new Error(`only ${n} of ${total} sent in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The CPU one unit of work (a job, a message, a request) cost, in µs, in all and by process: where
 * its time went (bench/cpu.ts).
 */
function cpuFigures(key: string, label: string, unit: string, per: CpuSnapshot): Figure[] {
  const parts: [string, string, number][] = [
    ['cpu', ' (service + PostgreSQL + Redis)', per.service + per.postgres + per.redis],
    ['cpu.service', ': service', per.service],
    ['cpu.pg', ': PostgreSQL', per.postgres],
    ['cpu.redis', ': Redis', per.redis],
  ];
  return parts.map(([k, what, value]) => ({
    key: `${key}.${k}`,
    label: `${label}, CPU per ${unit}${what}`,
    value,
    unit: 'µs',
    better: 'lower',
  }));
}

/** The CPU per unit in all and by process, for a table row. */
function cpuText(per: CpuSnapshot, unit: string): string {
  const all = per.service + per.postgres + per.redis;
  return `CPU ${fmt(all)} µs per ${unit} (service ${fmt(per.service)}, PostgreSQL ${fmt(per.postgres)}, Redis ${fmt(per.redis)})`;
}

let rawRuns = 0;

/** (a) Bull's own limit: addBulk + process of empty jobs, same concurrency as the worker. */
export async function rawBull(ctx: BenchContext): Promise<Figure[]> {
  const total = 20_000;
  const queue = new Bull(`bench-raw`, REDIS_URL, { prefix: `{sms-bench-raw-${RUN}-${++rawRuns}}` });
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => (finish = r));
  void queue.process('j', CONCURRENCY, async () => {
    done += 1;
    if (done === total) finish();
  });
  await queue.isReady();
  // The CPU of Bull's own work: this process (it runs the queue) and Redis.
  const redis = new IORedis(REDIS_URL);
  const cpuAt = async () => {
    const own = process.cpuUsage();
    return {
      service: (own.user + own.system) / 1000,
      postgres: 0,
      redis: (await cpuSnapshot(undefined, ctx.db, redis)).redis,
    };
  };
  const cpuBefore = await cpuAt();
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
  const cpu = cpuPerUnitUs(cpuBefore, await cpuAt(), total);
  redis.disconnect();
  await queue.obliterate({ force: true });
  await queue.close();
  ctx.rows.push({
    name: '(a) Bull addBulk + process, empty jobs',
    figure: `${fmt(rate)} jobs/s; CPU ${fmt(cpu.service + cpu.redis)} µs per job (Bull's process ${fmt(cpu.service)}, Redis ${fmt(cpu.redis)})`,
    target: 'reference',
    ratio: '',
    met: null,
  });
  return [
    { key: 'a', label: '(a) raw Bull, empty jobs', value: rate, unit: 'jobs/s', better: 'higher' },
    {
      key: 'a.cpu',
      label: "(a) raw Bull, CPU per job (Bull's process + Redis)",
      value: cpu.service + cpu.redis,
      unit: 'µs',
      better: 'lower',
    },
  ];
}

/** (b) and (d): all roles in one process, sandbox without latency; (b) is also related to (a). */
export async function workerPath(ctx: BenchContext): Promise<Figure[]> {
  const { db } = ctx;
  const svc = await ctx.startService({ APP_ROLE: 'all', SMS_WORKER_CONCURRENCY: String(CONCURRENCY) });
  const redis = new IORedis(REDIS_URL);
  try {
    await ctx.postBulk(1, ctx.numbers(100, 90_000)); // warm-up: JIT, pools, prices
    const cpuBefore = await cpuSnapshot(svc.pid, db, redis);
    const started = performance.now();
    const first = await ctx.postBulk(2, ctx.numbers(10_000));
    const second = await ctx.postBulk(2, ctx.numbers(10_000, 10_000));
    const end = await waitSent(db, [first.batchId, second.batchId], 20_000, 120_000);
    const e2eRate = 20_000 / ((end - started) / 1000);
    const cpu = cpuPerUnitUs(cpuBefore, await cpuSnapshot(svc.pid, db, redis), 20_000);
    const figures: Figure[] = [
      { key: 'b', label: '(b) send-bulk accept → sent', value: e2eRate, unit: 'msg/s', better: 'higher' },
      ...cpuFigures('b', '(b) send-bulk accept → sent', 'message', cpu),
    ];
    const bull = ctx.figures.get('a');
    const ratio = bull ? e2eRate / bull.value : null;
    if (ratio !== null)
      figures.push({ key: 'b/a', label: '(b) / (a)', value: ratio * 100, unit: '%', better: 'higher' });
    ctx.rows.push({
      name: '(b) send-bulk, accept → sent (20,000 messages)',
      figure: `${fmt(e2eRate)} msg/s; ${cpuText(cpu, 'message')}`,
      target: '≥ 50 % of (a)',
      ratio: ratio === null ? '' : `${fmt(ratio * 100, 1)} %`,
      met: ratio === null ? null : ratio >= 0.5,
    });
    ctx.rows.push({
      name: '(d) accept one 10,000-number send-bulk',
      // The first is accepted by an idle service; the second while the first is being delivered
      // by the same process (role all), which is reported but not what the target measures.
      figure: `${fmt(first.ms)} ms (a second one during delivery of the first: ${fmt(second.ms)} ms)`,
      target: '< 1,000 ms',
      ratio: '',
      met: first.ms < 1000,
    });
    figures.push(
      {
        key: 'd',
        label: '(d) accept one 10,000-number send-bulk',
        value: first.ms,
        unit: 'ms',
        better: 'lower',
      },
      {
        key: 'd2',
        label: '(d) the same, during delivery of the first',
        value: second.ms,
        unit: 'ms',
        better: 'lower',
      },
    );
    return figures;
  } finally {
    redis.disconnect();
    await ctx.stopService(svc);
  }
}

/** (c): the api role, as it is deployed behind a load balancer. */
export async function apiPath(ctx: BenchContext): Promise<Figure[]> {
  const svc = await ctx.startService({ APP_ROLE: 'api' });
  const redis = new IORedis(REDIS_URL);
  try {
    const auth = { Authorization: `Bearer ${ctx.token(3)}`, 'Content-Type': 'application/json' };
    const load = (path: string, method: 'GET' | 'POST', body?: string) =>
      autocannon({
        url: `${ctx.base}${path}`,
        method,
        headers: auth,
        body,
        connections: 50,
        duration: DURATION_S,
      });
    // Each load with the CPU it cost per request (the service, PostgreSQL, Redis).
    const measured = async (path: string, method: 'GET' | 'POST', body?: string) => {
      const before = await cpuSnapshot(svc.pid, ctx.db, redis);
      const result = await load(path, method, body);
      const cpu = cpuPerUnitUs(before, await cpuSnapshot(svc.pid, ctx.db, redis), result.requests.total);
      return { ...result, cpu };
    };
    await load('/api/sms/me', 'GET'); // warm-up
    const bare = await measured('/api/sms/me', 'GET');
    const send = await measured(
      '/api/sms/send',
      'POST',
      JSON.stringify({
        phone_number: '+12025550123',
        message: 'Your appointment is tomorrow at 2 PM',
        message_type: 'appointment_reminder',
      }),
    );
    const sendOk = send.non2xx === 0 && send.errors === 0;
    if (!sendOk) ctx.notes.push(`(c) saw ${send.non2xx} non-2xx answers and ${send.errors} errors.`);
    const ratio = send.requests.average / bare.requests.average;
    ctx.rows.push({
      name: '(c) POST /api/sms/send, 50 connections',
      figure: `${fmt(send.requests.average)} req/s, p50 ${send.latency.p50} ms, p99 ${send.latency.p99} ms; ${cpuText(send.cpu, 'request')}`,
      target: '≥ 2,000 req/s, p99 ≤ 50 ms',
      ratio: '',
      met: sendOk && send.requests.average >= 2000 && send.latency.p99 <= 50,
    });
    ctx.rows.push({
      name: '(c) vs bare authenticated GET /api/sms/me',
      figure: `${fmt(bare.requests.average)} req/s, p99 ${bare.latency.p99} ms; ${cpuText(bare.cpu, 'request')}`,
      // Under Express the bare route was the ceiling (~2,000 req/s) and /send had to reach a quarter
      // of it; on Fastify the bare route answers ~5× more, so the share is reported, not a target.
      target: 'reported (the framework ceiling)',
      ratio: `${fmt(ratio * 100, 1)} %`,
      met: null,
    });
    const send_ = '(c) POST /api/sms/send, 50 connections';
    const bare_ = '(c) bare GET /api/sms/me, 50 connections';
    return [
      { key: 'c.send', label: send_, value: send.requests.average, unit: 'req/s', better: 'higher' },
      { key: 'c.send.p50', label: `${send_}, p50`, value: send.latency.p50, unit: 'ms', better: 'lower' },
      { key: 'c.send.p99', label: `${send_}, p99`, value: send.latency.p99, unit: 'ms', better: 'lower' },
      { key: 'c.bare', label: bare_, value: bare.requests.average, unit: 'req/s', better: 'higher' },
      { key: 'c.bare.p99', label: `${bare_}, p99`, value: bare.latency.p99, unit: 'ms', better: 'lower' },
      { key: 'c.ratio', label: '(c) send / bare', value: ratio * 100, unit: '%', better: 'higher' },
      ...cpuFigures('c.send', send_, 'request', send.cpu),
      ...cpuFigures('c.bare', bare_, 'request', bare.cpu).slice(0, 1),
    ];
  } finally {
    redis.disconnect();
    await ctx.stopService(svc);
  }
}

/** (e): 200 ms provider latency; throughput should be concurrency / 0.2 s. */
export async function slowProvider(ctx: BenchContext): Promise<Figure[]> {
  const slowConcurrency = 20;
  const svc = await ctx.startService({
    APP_ROLE: 'all',
    SANDBOX_LATENCY_MS: '200',
    SMS_WORKER_CONCURRENCY: String(slowConcurrency),
  });
  try {
    const total = 1000;
    const started = performance.now();
    const slow = await ctx.postBulk(4, ctx.numbers(total, 30_000));
    const end = await waitSent(ctx.db, [slow.batchId], total, 120_000);
    const rate = total / ((end - started) / 1000);
    const expected = slowConcurrency / 0.2;
    ctx.rows.push({
      name: `(e) 200 ms provider, concurrency ${slowConcurrency}`,
      figure: `${fmt(rate, 1)} msg/s`,
      target: `within 10 % of ${fmt(expected)} msg/s`,
      ratio: `${fmt((rate / expected) * 100, 1)} %`,
      met: Math.abs(rate / expected - 1) <= 0.1,
    });
    return [
      {
        key: 'e',
        label: `(e) 200 ms provider, concurrency ${slowConcurrency}`,
        value: rate,
        unit: 'msg/s',
        better: 'higher',
      },
    ];
  } finally {
    await ctx.stopService(svc);
  }
}
