/**
 * `npm run bench:capacity`: the measured inputs of docs/SCALING.md's capacity model. Not part of
 * `npm test` or `npm run bench`.
 *
 * It starts its own PostgreSQL (initdb into a temporary directory as the postgres user, a free port
 * from 5461, with `pg_stat_statements` preloaded and `track_io_timing` on; the shared 5432 is never
 * touched) and its own Redis (a free port from 6401), then the built service as production runs it:
 * one `APP_ROLE=api` and one `APP_ROLE=worker` process (`node dist/src/main.js`), sandbox provider.
 * Each stage is measured between two snapshots of:
 * - PostgreSQL: `pg_stat_statements` of the service's database and role (top-level statements:
 *   one per round trip; a PL/pgSQL function and its triggers count once, their time inside it),
 *   `pg_current_wal_lsn()` (every WAL byte: commits, full-page images, autovacuum), and the CPU
 *   time of every PostgreSQL process (/proc, user + system) less the run's own polling backend;
 * - Redis: commands processed and its CPU time (`INFO`);
 * - each service process's CPU time (/proc).
 *
 * Stages (N = CAPACITY_MESSAGES, default 20,000):
 * 1. bulk accept: N numbers in 1,000-number `POST /api/sms/send-bulk`, 2 in flight, the delivery
 *    queues paused (Bull's global pause) so nothing is delivered yet;
 * 2. delivery: the queues resumed; until the N rows are `sent` (provider latency 0, receipts off,
 *    SMS_WORKER_CONCURRENCY 100): the worker's ceiling;
 * 3. delivery + receipts: N more accepted (not measured), the worker restarted with receipts 100 ms
 *    after the hand-over; until all N are `delivered`. A receipt's cost is stage 3 − stage 2;
 * 4. single sends: `POST /api/sms/send` for CAPACITY_DURATION_S (default 10) at 50 connections;
 * 5. receipt webhooks: N rows written `sent` through Twilio (straight into the ledger, not
 *    measured), then one signed Twilio status callback each, `POST /api/sms/webhooks/twilio/status`
 *    at 50 connections, to an api restarted with the (fake) Twilio configured: a receipt as it
 *    reaches production, over HTTP.
 * Before stage 1 it waits for the worker's sweeper's first pass (on a fresh Redis that pass
 * queues every waiting row again). The worker stays up through every stage and folds the stats
 * deltas (every second); a stage ends
 * when they are folded, so a stage's cost includes the fold of its own writes.
 *
 * Writes the CAPACITY block of docs/SCALING.md; the model around it is edited by hand.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Bull from 'bull';
import IORedis from 'ioredis';
import { Client } from 'pg';
import twilio from 'twilio';
import { cleanupAll } from '../chaos/cleanup';
import { freePort, OwnPostgres, OwnRedis } from '../chaos/infra';
import { ServiceProcess } from '../chaos/service';
import { migrate } from '../src/database/bootstrap';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio } from '../test/fakes/fake-twilio';
import { fmt } from './context';
import { cpuMs, pgCpuMs, redisInfo } from './cpu';
import { load, machine, writeBlock } from './report';
import { baseEnv, numbers, token } from './service';

const N = Number(process.env.CAPACITY_MESSAGES ?? 20_000);
const DURATION_S = Number(process.env.CAPACITY_DURATION_S ?? 10);
const DB = 'sms_capacity';
const PREFIX = 'capacity';
const BULK = 1000;
const DELIVERY_QUEUES = ['sms-delivery', 'sms-delivery-campaigns', 'sms-delivery-codes'];
const TEXT = 'Capacity: the school is closed on Monday for the teachers training day.';

interface Stmt {
  query: string;
  calls: number;
  ms: number;
  walBytes: number;
}

interface Snapshot {
  at: number;
  lsn: string;
  stmts: Map<string, Stmt>;
  pgCpuMs: number;
  redisCommands: number;
  redisCpuMs: number;
  procCpuMs: Record<string, number>;
}

interface StageResult {
  name: string;
  messages: number;
  seconds: number;
  /** Messages per second over the stage's own clock (see each stage). */
  rate: number;
  perMessage: {
    statements: number;
    execUs: number;
    walBytes: number;
    walBytesStatements: number;
    pgCpuUs: number;
    redisCommands: number;
    redisCpuUs: number;
    procCpuUs: Record<string, number>;
  };
  top: { query: string; calls: number; execUs: number; walBytes: number }[];
}

class Bed {
  pg!: OwnPostgres;
  redis!: OwnRedis;
  admin!: Client;
  observer!: Client;
  redisClient!: IORedis;
  port = 0;
  api!: ServiceProcess;
  worker!: ServiceProcess;
  private workers = 0;
  private apis = 0;
  private observerPid = 0;
  readonly logDir = join('dist', 'capacity-logs', Date.now().toString(36));

  async setup(): Promise<void> {
    mkdirSync(this.logDir, { recursive: true });
    this.pg = new OwnPostgres(await freePort(5461), [
      'shared_preload_libraries=pg_stat_statements',
      'track_io_timing=on',
      'pg_stat_statements.track=top',
      'pg_stat_statements.max=5000',
      // As a production primary writes WAL: full-page images after each checkpoint, commits
      // waiting for their flush (fsync stays off: the disk of this shared machine is not measured).
      'full_page_writes=on',
      'synchronous_commit=on',
    ]);
    this.redis = new OwnRedis(await freePort(6401));
    this.port = await freePort(3960);
    this.pg.init();
    await this.pg.start();
    await this.redis.start();
    this.admin = new Client({ connectionString: this.pg.url('postgres') });
    await this.admin.connect();
    await this.admin.query('CREATE EXTENSION pg_stat_statements');
    await this.admin.query(`CREATE DATABASE ${DB}`);
    // The stage's own polling runs as another role, left out of the service's statements.
    await this.admin.query('CREATE ROLE observer LOGIN SUPERUSER');
    await migrate(this.pg.url(DB));
    this.observer = new Client({ connectionString: `postgres://observer@127.0.0.1:${this.pg.port}/${DB}` });
    await this.observer.connect();
    this.observerPid = (
      await this.observer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    ).rows[0].pid;
    this.redisClient = new IORedis(this.redis.url);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...baseEnv(),
      PORT: String(this.port),
      DATABASE_URL: this.pg.url(DB),
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: PREFIX,
      METRICS_PORT: '0',
      SMS_WORKER_CONCURRENCY: '100',
      SMS_ROLLUP_FOLD_INTERVAL_MS: '1000',
      ...extra,
    };
  }

  async startApi(extra: Record<string, string> = {}): Promise<void> {
    const name = `api${++this.apis}`;
    this.api = new ServiceProcess(name, 'api', this.env(extra), join(this.logDir, `${name}.log`), this.port);
    await this.api.start();
  }

  /** The settings of an api that takes Twilio's status callbacks (the fake Twilio as its API). */
  twilioEnv(twilioUrl: string): Record<string, string> {
    return {
      SMS_PROVIDERS: 'twilio',
      TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
      TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: twilioUrl,
      PUBLIC_BASE_URL: this.base,
    };
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async startWorker(extra: Record<string, string>): Promise<void> {
    const name = `worker${++this.workers}`;
    this.worker = new ServiceProcess(
      name,
      'worker',
      this.env({ LOG_LEVEL: 'info', ...extra }),
      join(this.logDir, `${name}.log`),
    );
    await this.worker.start();
  }

  /** Bull's global pause of every delivery queue (jobs added meanwhile wait in `paused`). */
  async deliveries(on: boolean): Promise<void> {
    for (const name of DELIVERY_QUEUES) {
      const q = new Bull(name, this.redis.url, { prefix: `{${PREFIX}}` });
      await q.isReady();
      if (on) await q.resume();
      else await q.pause();
      await q.close();
    }
  }

  async snapshot(): Promise<Snapshot> {
    const { rows } = await this.admin.query<{
      id: string;
      query: string;
      calls: number;
      ms: number;
      wal_bytes: number;
    }>(
      `SELECT s.queryid::text AS id, s.query, s.calls::float8 AS calls,
              (s.total_exec_time + s.total_plan_time)::float8 AS ms, s.wal_bytes::float8 AS wal_bytes
         FROM pg_stat_statements s
         JOIN pg_database d ON d.oid = s.dbid
         JOIN pg_roles r ON r.oid = s.userid
        WHERE d.datname = $1 AND r.rolname = 'postgres'`,
      [DB],
    );
    const lsn = (await this.admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]
      .lsn;
    const info = await this.redisClient.info();
    return {
      at: performance.now(),
      lsn,
      stmts: new Map(
        rows.map((r) => [r.id, { query: r.query, calls: r.calls, ms: r.ms, walBytes: r.wal_bytes }]),
      ),
      // Less the run's own polling backend (the observer's), which is not the service's work.
      pgCpuMs: pgCpuMs(this.pg.postmasterPid() ?? 0) - cpuMs(this.observerPid),
      redisCommands: redisInfo(info, 'total_commands_processed'),
      redisCpuMs: (redisInfo(info, 'used_cpu_user') + redisInfo(info, 'used_cpu_sys')) * 1000,
      procCpuMs: { api: cpuMs(this.api?.pid), worker: cpuMs(this.worker?.pid) },
    };
  }

  async walBytes(from: string, to: string): Promise<number> {
    const { rows } = await this.admin.query<{ n: string }>('SELECT pg_wal_lsn_diff($2, $1)::text AS n', [
      from,
      to,
    ]);
    return Number(rows[0].n);
  }

  /** Polls (as the observer) until `sql` answers a first column ≥ `target`; the time it held. */
  async until(sql: string, params: unknown[], target: number, timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.observer.query(sql, params);
      if (Number(Object.values(rows[0] as object)[0]) >= target) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${sql}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Until the worker has folded every stats delta written so far. */
  async folded(): Promise<void> {
    await this.until('SELECT (count(*) = 0)::int FROM sms_rollup_deltas', [], 1);
  }

  /**
   * Until the worker's sweeper has made its first pass. On a Redis that never held the service's
   * jobs its marker is missing, so that pass re-queues every waiting row (as after a flush): run
   * during a stage, it would add a second job per message of the stage's backlog to the figures.
   */
  async swept(timeoutMs = 60_000): Promise<void> {
    const marker = `{${PREFIX}}:${DELIVERY_QUEUES[0]}:sweeper-epoch`;
    const deadline = Date.now() + timeoutMs;
    while (!(await this.redisClient.exists(marker))) {
      if (Date.now() > deadline) throw new Error(`the sweeper set no ${marker}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async teardown(): Promise<void> {
    await this.worker?.kill();
    await this.api?.kill();
    this.redisClient?.disconnect();
    await this.observer?.end().catch(() => undefined);
    await this.admin?.end().catch(() => undefined);
    await this.redis?.kill();
    await this.pg?.stop().catch(() => undefined);
  }
}

async function measure(
  bed: Bed,
  name: string,
  work: () => Promise<{ messages: number; seconds?: number }>,
): Promise<StageResult> {
  const before = await bed.snapshot();
  const done = await work();
  const after = await bed.snapshot();
  const m = done.messages;
  const seconds = done.seconds ?? (after.at - before.at) / 1000;
  const delta: { query: string; calls: number; ms: number; walBytes: number }[] = [];
  for (const [id, s] of after.stmts) {
    const b = before.stmts.get(id);
    const calls = s.calls - (b?.calls ?? 0);
    if (calls > 0)
      delta.push({
        query: s.query,
        calls,
        ms: s.ms - (b?.ms ?? 0),
        walBytes: s.walBytes - (b?.walBytes ?? 0),
      });
  }
  const sum = (k: 'calls' | 'ms' | 'walBytes') => delta.reduce((a, d) => a + d[k], 0);
  const procCpuUs: Record<string, number> = {};
  for (const k of Object.keys(after.procCpuMs))
    procCpuUs[k] = ((after.procCpuMs[k] - (before.procCpuMs[k] ?? 0)) * 1000) / m;
  const result: StageResult = {
    name,
    messages: m,
    seconds,
    rate: m / seconds,
    perMessage: {
      statements: sum('calls') / m,
      execUs: (sum('ms') * 1000) / m,
      walBytes: (await bed.walBytes(before.lsn, after.lsn)) / m,
      walBytesStatements: sum('walBytes') / m,
      pgCpuUs: ((after.pgCpuMs - before.pgCpuMs) * 1000) / m,
      redisCommands: (after.redisCommands - before.redisCommands) / m,
      redisCpuUs: ((after.redisCpuMs - before.redisCpuMs) * 1000) / m,
      procCpuUs,
    },
    top: delta
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 8)
      .map((d) => ({
        query: d.query.replace(/\s+/g, ' ').slice(0, 110),
        calls: d.calls / m,
        execUs: (d.ms * 1000) / m,
        walBytes: d.walBytes / m,
      })),
  };
  console.log(
    `${name}: ${fmt(m)} messages in ${fmt(seconds, 1)} s (${fmt(result.rate)} msg/s); per message ` +
      `${fmt(result.perMessage.statements, 2)} statements, ${fmt(result.perMessage.walBytes)} WAL bytes, ` +
      `PG CPU ${fmt(result.perMessage.pgCpuUs)} µs, api ${fmt(procCpuUs.api)} µs, worker ${fmt(procCpuUs.worker)} µs`,
  );
  return result;
}

async function post(bed: Bed, tenant: number, phones: string[]): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${bed.port}/api/sms/send-bulk`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token(tenant)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ phone_numbers: phones, message: TEXT }),
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`send-bulk answered ${res.status}: ${text.slice(0, 300)}`);
}

/** `count` numbers from `offset` in 1,000-number send-bulks, two in flight; the wall seconds. */
async function acceptBulk(bed: Bed, tenant: number, count: number, offset: number): Promise<number> {
  const phones = numbers(count, offset);
  const chunks: string[][] = [];
  for (let i = 0; i < count; i += BULK) chunks.push(phones.slice(i, i + BULK));
  const t0 = performance.now();
  const lanes = [0, 1].map(async (lane) => {
    for (let i = lane; i < chunks.length; i += 2) await post(bed, tenant, chunks[i]);
  });
  await Promise.all(lanes);
  return (performance.now() - t0) / 1000;
}

/** Messages per second between the first and the last hand-over of a tenant's rows. */
async function handOverRate(bed: Bed, tenant: number): Promise<{ messages: number; seconds: number }> {
  const { rows } = await bed.observer.query<{ n: number; span: number }>(
    `SELECT count(*)::int AS n, extract(epoch FROM max(sent_at) - min(sent_at))::float8 AS span
       FROM sms_messages WHERE tenant_id = $1`,
    [tenant],
  );
  return { messages: rows[0].n, seconds: rows[0].span };
}

/**
 * Stage 5: N rows `sent` through Twilio are written straight into the ledger (before the
 * measurement), then each gets one signed `delivered` status callback, 50 connections, at an api
 * restarted with Twilio configured; until every row is `delivered` and the deltas are folded.
 */
async function receiptWebhooks(bed: Bed): Promise<StageResult> {
  const tenant = 5;
  const fake = new FakeTwilio();
  const twilioUrl = await fake.start();
  try {
    await bed.api.kill();
    await bed.startApi(bed.twilioEnv(twilioUrl));
    const sids = Array.from({ length: N }, (_, i) => `SM${String(i).padStart(32, '0')}`);
    const phones = numbers(N, 300_000);
    await bed.observer.query(
      `INSERT INTO tenants (id, name) VALUES ($1, 'capacity') ON CONFLICT DO NOTHING`,
      [tenant],
    );
    await bed.observer.query(
      `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, language, status,
                                 provider, provider_message_id, segments, encoding, estimated_cost, currency,
                                 sent_at, attempts, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'capacity', p, $4, 'general_notification', 'en', 'sent', 'twilio', s,
              1, 'GSM-7', 0.0079, 'USD', now(), 1, now(), now()
         FROM unnest($2::varchar[], $3::varchar[]) AS x(s, p)`,
      [tenant, sids, phones, TEXT],
    );
    await bed.folded();
    const url = `${bed.base}/api/sms/webhooks/twilio/status`;
    const requests = sids.map((sid, i) => {
      const params: Record<string, string> = {
        AccountSid: FAKE_TWILIO_SID,
        ApiVersion: '2010-04-01',
        MessageSid: sid,
        SmsSid: sid,
        MessageStatus: 'delivered',
        SmsStatus: 'delivered',
        To: phones[i],
        From: '+15005550006',
      };
      return {
        body: new URLSearchParams(params).toString(),
        signature: twilio.getExpectedTwilioSignature(FAKE_TWILIO_TOKEN, url, params),
      };
    });
    let next = 0;
    return await measure(
      bed,
      '5. receipt webhooks (signed Twilio status callbacks, 50 connections)',
      async () => {
        const t0 = performance.now();
        const r = await autocannon({
          url,
          connections: 50,
          amount: N,
          requests: [
            {
              method: 'POST',
              setupRequest: (req) => {
                const one = requests[next++ % requests.length];
                return {
                  ...req,
                  body: one.body,
                  headers: {
                    ...req.headers,
                    'content-type': 'application/x-www-form-urlencoded',
                    'x-twilio-signature': one.signature,
                  },
                };
              },
            },
          ],
        });
        const seconds = (performance.now() - t0) / 1000;
        if (r.non2xx || r.errors) console.warn(`receipts: ${r.non2xx} non-2xx, ${r.errors} errors`);
        await bed.until(
          `SELECT count(*) FROM sms_messages WHERE tenant_id = $1 AND status = 'delivered'`,
          [tenant],
          r['2xx'],
        );
        await bed.folded();
        return { messages: r['2xx'], seconds };
      },
    );
  } finally {
    await fake.stop();
  }
}

function tables(stages: StageResult[], receipt: StageResult['perMessage'] | null): string {
  const p = (s: StageResult) => s.perMessage;
  const lines = [
    '| stage | messages | rate | api CPU µs/msg | worker CPU µs/msg | PG statements/msg | PG exec µs/msg | PG CPU µs/msg (all processes) | WAL bytes/msg (LSN) | WAL bytes/msg (statements) | Redis commands/msg | Redis CPU µs/msg |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...stages.map(
      (s) =>
        `| ${s.name} | ${fmt(s.messages)} | ${fmt(s.rate)} msg/s | ${fmt(p(s).procCpuUs.api)} | ${fmt(p(s).procCpuUs.worker)} | ` +
        `${fmt(p(s).statements, 2)} | ${fmt(p(s).execUs)} | ${fmt(p(s).pgCpuUs)} | ${fmt(p(s).walBytes)} | ` +
        `${fmt(p(s).walBytesStatements)} | ${fmt(p(s).redisCommands, 1)} | ${fmt(p(s).redisCpuUs)} |`,
    ),
  ];
  if (receipt)
    lines.push(
      `| a receipt alone (stage 3 − stage 2) | | | ${fmt(receipt.procCpuUs.api)} | ${fmt(receipt.procCpuUs.worker)} | ` +
        `${fmt(receipt.statements, 2)} | ${fmt(receipt.execUs)} | ${fmt(receipt.pgCpuUs)} | ${fmt(receipt.walBytes)} | ` +
        `${fmt(receipt.walBytesStatements)} | ${fmt(receipt.redisCommands, 1)} | ${fmt(receipt.redisCpuUs)} |`,
    );
  const top = stages.flatMap((s) => [
    '',
    `Statements of "${s.name}" by PostgreSQL time (per message):`,
    '',
    '| statement | calls/msg | exec µs/msg | WAL bytes/msg |',
    '| --- | --- | --- | --- |',
    ...s.top.map(
      (t) =>
        `| \`${t.query.replace(/\|/g, '\\|')}\` | ${fmt(t.calls, 3)} | ${fmt(t.execUs, 1)} | ${fmt(t.walBytes)} |`,
    ),
  ]);
  return [...lines, ...top].join('\n');
}

function minus(a: StageResult['perMessage'], b: StageResult['perMessage']): StageResult['perMessage'] {
  return {
    statements: a.statements - b.statements,
    execUs: a.execUs - b.execUs,
    walBytes: a.walBytes - b.walBytes,
    walBytesStatements: a.walBytesStatements - b.walBytesStatements,
    pgCpuUs: a.pgCpuUs - b.pgCpuUs,
    redisCommands: a.redisCommands - b.redisCommands,
    redisCpuUs: a.redisCpuUs - b.redisCpuUs,
    procCpuUs: {
      api: a.procCpuUs.api - b.procCpuUs.api,
      worker: a.procCpuUs.worker - b.procCpuUs.worker,
    },
  };
}

async function main(): Promise<void> {
  const bed = new Bed();
  const started = new Date();
  const stages: StageResult[] = [];
  try {
    await bed.setup();
    await bed.deliveries(false);
    await bed.startApi();
    await bed.startWorker({ SANDBOX_DELIVERY_DELAY_MS: '3600000' });
    await bed.swept();
    // Warm-up (JIT, pools, prices), delivered before anything is measured.
    await bed.deliveries(true);
    await acceptBulk(bed, 9, 2000, 900_000);
    await bed.until(`SELECT count(*) FROM sms_messages WHERE tenant_id = 9 AND status = 'sent'`, [], 2000);
    await bed.folded();
    await bed.deliveries(false);

    stages.push(
      await measure(bed, '1. bulk accept (1,000-number send-bulks, 2 in flight)', async () => {
        const seconds = await acceptBulk(bed, 1, N, 0);
        await bed.folded();
        return { messages: N, seconds };
      }),
    );
    stages.push(
      await measure(bed, '2. delivery (provider 0 ms, receipts off, concurrency 100)', async () => {
        await bed.deliveries(true);
        await bed.until(`SELECT count(*) FROM sms_messages WHERE tenant_id = 1 AND status = 'sent'`, [], N);
        await bed.folded();
        return handOverRate(bed, 1);
      }),
    );
    await bed.deliveries(false);
    await bed.worker.kill();
    await bed.startWorker({ SANDBOX_DELIVERY_DELAY_MS: '100' });
    await acceptBulk(bed, 2, N, 100_000);
    await bed.folded();
    stages.push(
      await measure(bed, '3. delivery + receipt 100 ms after it', async () => {
        await bed.deliveries(true);
        await bed.until(
          `SELECT count(*) FROM sms_messages WHERE tenant_id = 2 AND status = 'delivered'`,
          [],
          N,
        );
        await bed.folded();
        return handOverRate(bed, 2);
      }),
    );
    await bed.deliveries(false);
    const sendBody = JSON.stringify({ phone_number: '+12025550123', message: TEXT });
    const sendLoad = () =>
      autocannon({
        url: `http://127.0.0.1:${bed.port}/api/sms/send`,
        method: 'POST',
        headers: { Authorization: `Bearer ${token(3)}`, 'Content-Type': 'application/json' },
        body: sendBody,
        connections: 50,
        duration: DURATION_S,
      });
    await sendLoad(); // warm-up
    await bed.folded();
    stages.push(
      await measure(bed, `4. single POST /api/sms/send (50 connections, ${DURATION_S} s)`, async () => {
        const r = await sendLoad();
        await bed.folded();
        if (r.non2xx || r.errors) console.warn(`/send: ${r.non2xx} non-2xx, ${r.errors} errors`);
        return { messages: r['2xx'], seconds: DURATION_S };
      }),
    );
    stages.push(await receiptWebhooks(bed));
  } finally {
    await bed.teardown().catch(() => undefined);
    cleanupAll();
  }
  const receipt = minus(stages[2].perMessage, stages[1].perMessage);
  const content = [
    '<!-- Written by `npm run bench:capacity`; the model below the block is edited by hand. -->',
    `Run ${started.toISOString()} on ${machine()}; load average (1 / 5 / 15 min) at the end ${load()}.`,
    `PostgreSQL 15 of its own (fsync off, full_page_writes on, pg_stat_statements), Redis of its own; one api and one worker process; ${fmt(N)} messages per stage.`,
    '',
    tables(stages, receipt),
  ].join('\n');
  console.log(`\n${content}`);
  writeBlock('CAPACITY', content, 'docs/SCALING.md');
}

main().catch((e: unknown) => {
  console.error(e);
  cleanupAll();
  process.exit(1);
});
