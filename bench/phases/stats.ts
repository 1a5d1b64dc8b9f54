/**
 * Issue 11's two figures for `npm run bench` (phases of bench/run.ts):
 * - (g) the p95 of a 90-day `GET /api/sms/stats?group_by=day` over a large seed (default
 *   1,000,000 messages; `--stats-messages=N` or BENCH_STATS_MESSAGES=N for a quicker try);
 * - (h) what the stats-rollup triggers cost the writes of a message's life.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Client } from 'pg';
import type { RollupService } from '../../src/analytics/rollup.service';
import { BenchContext, Figure, fmt } from '../context';
import { processCpuMs } from '../cpu';

/** `--name=value` from the command line, else the environment variable, else the default. */
function setting(flag: string, env: string, dflt: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${flag}=`));
  const raw = arg ? arg.slice(flag.length + 3) : process.env[env];
  const n = raw === undefined ? dflt : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} / ${env} must be a positive integer`);
  return n;
}

const percentile = (sorted: number[], p: number) => sorted[Math.ceil(p * sorted.length) - 1];

/** Times `count` sequential GETs after 5 warm-up calls; returns the sorted times and the last body. */
async function timeGets(
  url: string,
  headers: Record<string, string>,
  count: number,
): Promise<{ times: number[]; total: number }> {
  const times: number[] = [];
  let total = -1;
  for (let k = 0; k < count + 5; k++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    const body = (await res.json()) as { totals: { total: number } };
    if (k >= 5) times.push(performance.now() - t0);
    total = body.totals.total;
  }
  return { times: times.sort((a, b) => a - b), total };
}

/**
 * (g) Stats: N messages over 90 days written straight into sms_messages (one INSERT … SELECT, so
 * the rollup triggers run as on the write path), folded by the service's own worker timer, then
 * the p95 of `GET /api/sms/stats?group_by=day` over the 90 days as a tenant admin (the coarse
 * rollup), and, reported beside it, as a plain user (the per-creator rollup, a third of the seed).
 */
export async function statsScenario(ctx: BenchContext): Promise<Figure[]> {
  const { db } = ctx;
  const total = setting('stats-messages', 'BENCH_STATS_MESSAGES', 1_000_000);
  const tenant = 7;
  await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'bench stats') ON CONFLICT DO NOTHING`, [
    tenant,
  ]);
  const seedStart = performance.now();
  // Spread over 89 days (all inside the 90-day window); 5 types, 2 providers, 2 languages,
  // 3 creators (service accounts), mostly delivered with a 0.3-10 s latency, some
  // sent/failed/undelivered/canceled.
  await db.query(
    `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, language, status,
                               provider, segments, encoding, estimated_cost, cost, currency,
                               sent_at, delivered_at, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'svc-' || (i % 3), '+12025550123', 'bench',
            (ARRAY['appointment_reminder','assessment_notification','password_reset','2fa_code','general_notification'])[1 + i % 5],
            CASE WHEN i % 7 = 0 THEN 'tr' ELSE 'en' END, st,
            CASE WHEN st = 'canceled' THEN NULL WHEN i % 2 = 0 THEN 'twilio' ELSE 'sns' END,
            1 + i % 2, 'GSM-7', 0.0079, CASE WHEN st = 'delivered' THEN 0.0075 END, 'USD',
            CASE WHEN st <> 'canceled' THEN at + interval '1 second' END,
            CASE WHEN st = 'delivered' THEN at + interval '1 second' + make_interval(secs => 0.3 + (i % 97) / 10.0) END,
            at, at
       FROM (SELECT i, now() - make_interval(secs => (i::double precision / $2) * 89 * 86400) AS at,
                    CASE WHEN i % 100 < 85 THEN 'delivered' WHEN i % 100 < 90 THEN 'sent'
                         WHEN i % 100 < 95 THEN 'failed' WHEN i % 100 < 98 THEN 'undelivered' ELSE 'canceled' END AS st
               FROM generate_series(1, $2) AS i) g`,
    [tenant, total],
  );
  const seedMs = performance.now() - seedStart;
  const svc = await ctx.startService({ APP_ROLE: 'all', SMS_ROLLUP_FOLD_INTERVAL_MS: '200' });
  try {
    const foldStart = performance.now();
    for (;;) {
      const { rows: left } = await db.query('SELECT count(*)::int AS n FROM sms_rollup_deltas');
      if (left[0].n === 0) break;
      if (performance.now() - foldStart > 300_000) throw new Error('rollup deltas not folded in 5 min');
      await new Promise((r) => setTimeout(r, 200));
    }
    const foldMs = performance.now() - foldStart;
    // What autovacuum would do after a million-row change, before anyone asks.
    for (const table of ['sms_daily_rollup', 'sms_tenant_daily_rollup', 'sms_rollup_deltas'])
      await db.query(`VACUUM ANALYZE ${table}`);
    const count = async (table: string) =>
      (await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenant])).rows[0]
        .n as number;
    const [fineRows, coarseRows] = [await count('sms_daily_rollup'), await count('sms_tenant_daily_rollup')];
    const end = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10);
    const url = `${ctx.base}/api/sms/stats?start_date=${start}&end_date=${end}&group_by=day`;

    const admin = await timeGets(url, { Authorization: `Bearer ${ctx.token(tenant)}` }, 100);
    if (admin.total !== total) ctx.notes.push(`stats answered a total of ${admin.total}, expected ${total}.`);
    const p95 = percentile(admin.times, 0.95);
    ctx.rows.push({
      name: `(g) GET /api/sms/stats 90 days group_by=day over ${fmt(total)} messages (tenant admin)`,
      figure: `p95 ${fmt(p95, 1)} ms, p50 ${fmt(percentile(admin.times, 0.5), 1)} ms (coarse rollup rows ${fmt(coarseRows)}; seed ${fmt(seedMs / 1000, 1)} s incl. triggers, fold ${fmt(foldMs / 1000, 1)} s)`,
      target: 'p95 ≤ 100 ms',
      ratio: '',
      met: p95 <= 100 && admin.total === total,
    });

    const user = await timeGets(url, { Authorization: `Bearer ${ctx.token(tenant, 'svc-0')}` }, 50);
    const expectedUser = Math.floor(total / 3);
    if (Math.abs(user.total - expectedUser) > 1)
      ctx.notes.push(`stats answered the plain user a total of ${user.total}, expected ~${expectedUser}.`);
    ctx.rows.push({
      name: '(g) the same as a plain user (their third of the messages)',
      figure: `p95 ${fmt(percentile(user.times, 0.95), 1)} ms, p50 ${fmt(percentile(user.times, 0.5), 1)} ms (per-creator rollup rows ${fmt(fineRows)})`,
      target: 'reported',
      ratio: '',
      met: null,
    });
    return [
      {
        key: 'g.admin.p95',
        label: `(g) GET /api/sms/stats 90 days over ${fmt(total)} messages, admin, p95`,
        value: p95,
        unit: 'ms',
        better: 'lower',
      },
      {
        key: 'g.user.p95',
        label: '(g) the same as a plain user, p95',
        value: percentile(user.times, 0.95),
        unit: 'ms',
        better: 'lower',
      },
    ];
  } finally {
    await ctx.stopService(svc);
  }
}

/**
 * The statements of one batch of messages' lives as the service writes them: the accept (one
 * INSERT for the batch), the claim and the hand-over (one UPDATE each for the batch, as the
 * worker batches them), a touch of `updated_at` that changes no counted column, then the
 * delivery receipts, one UPDATE per message as receipts arrive (`receiptsBatched`: one for all).
 */
async function lifecycle(db: Client, tenant: number, batch: number, receiptsBatched: boolean): Promise<void> {
  const { rows } = await db.query(
    `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, language, status,
                               segments, encoding, estimated_cost, currency)
     SELECT gen_random_uuid(), $1, 'u' || (i % 3), '+12025550123', 'bench', 'general_notification', 'en',
            'queued', 1, 'GSM-7', 0.0079, 'USD'
       FROM generate_series(1, $2) i
     RETURNING id`,
    [tenant, batch],
  );
  const ids = rows.map((r: { id: string }) => r.id);
  await db.query(
    `UPDATE sms_messages SET status = 'sending', attempts = attempts + 1, updated_at = now()
      WHERE id = ANY($1::uuid[]) AND status = 'queued'`,
    [ids],
  );
  await db.query(
    `UPDATE sms_messages SET status = 'sent', provider = 'twilio', provider_message_id = 'SM' || replace(id::text, '-', ''),
            sent_at = now(), body_ciphertext = NULL, error_code = NULL, updated_at = now()
      WHERE id = ANY($1::uuid[]) AND status = 'sending'`,
    [ids],
  );
  await db.query(`UPDATE sms_messages SET updated_at = now() WHERE id = ANY($1::uuid[])`, [ids]);
  const receipt = `UPDATE sms_messages SET status = 'delivered', delivered_at = now() + interval '2 seconds',
                          cost = 0.0075, updated_at = now()
                    WHERE id = ANY($1::uuid[]) AND status = 'sent'`;
  if (receiptsBatched) await db.query(receipt, [ids]);
  else for (const id of ids) await db.query(receipt, [[id]]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * (h) The rollup's cost on the write path: the same message lives (see `lifecycle`) with the
 * rollup triggers on sms_messages enabled, plus the fold of the deltas they wrote, against the
 * same with them disabled, in alternating rounds on one connection. Judged on the PostgreSQL
 * backend's CPU time (wall time is reported too; it moves with whatever else shares the machine).
 * Two shapes: the send path under load (batches of 100, receipts one by one) and every statement
 * for a single message (an idle service: nothing to batch). Reported: this isolates the database
 * work the triggers add to a message's own writes; the end-to-end figure below is the judged one.
 */
export async function rollupCostScenario(ctx: BenchContext): Promise<Figure[]> {
  const { db } = ctx;
  const tenant = 8;
  const rounds = setting('rollup-rounds', 'BENCH_ROLLUP_ROUNDS', 5);
  await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'bench rollup cost') ON CONFLICT DO NOTHING`, [
    tenant,
  ]);
  const pid = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  // The build's own fold (from its dist), on this connection (so its CPU is counted), one
  // transaction per chunk.
  const { RollupService: Fold } = createRequire(__filename)(
    join(ctx.build.dir, 'dist/src/analytics/rollup.service.js'),
  ) as {
    RollupService: typeof RollupService;
  };
  const fold = new Fold({
    transaction: async <T>(
      fn: (m: { query: (sql: string, p?: unknown[]) => Promise<unknown[]> }) => Promise<T>,
    ) => {
      await db.query('BEGIN');
      try {
        const out = await fn({ query: async (sql, p) => (await db.query(sql, p)).rows });
        await db.query('COMMIT');
        return out;
      } catch (e) {
        await db.query('ROLLBACK');
        throw e;
      }
    },
  } as never);
  const setTriggers = async (on: boolean) => {
    for (const t of ['sms_rollup_insert', 'sms_rollup_update'])
      await db.query(`ALTER TABLE sms_messages ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${t}`);
  };
  const arm = async (on: boolean, batch: number, messages: number) => {
    await setTriggers(on);
    const cpu0 = processCpuMs(pid);
    const t0 = performance.now();
    for (let i = 0; i < messages; i += batch)
      await lifecycle(db, tenant, Math.min(batch, messages - i), batch === 1);
    if (on) await fold.fold();
    const cpu1 = processCpuMs(pid);
    return { wall: performance.now() - t0, cpu: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0 };
  };
  const figures: Figure[] = [];
  try {
    for (const [batch, messages] of [
      [100, 1000],
      [1, 300],
    ] as const) {
      await arm(true, batch, messages); // warm-up
      await arm(false, batch, messages);
      const on: { wall: number; cpu: number | null }[] = [];
      const off: typeof on = [];
      for (let r = 0; r < rounds; r++) {
        on.push(await arm(true, batch, messages));
        off.push(await arm(false, batch, messages));
      }
      const cpuOn = on.every((x) => x.cpu !== null) ? median(on.map((x) => x.cpu as number)) : null;
      const cpuOff = off.every((x) => x.cpu !== null) ? median(off.map((x) => x.cpu as number)) : null;
      const wallOn = median(on.map((x) => x.wall));
      const wallOff = median(off.map((x) => x.wall));
      const cpuRatio = cpuOn !== null && cpuOff !== null && cpuOn > 0 ? cpuOff / cpuOn : null;
      const wallRatio = wallOff / wallOn;
      const ratio = cpuRatio ?? wallRatio;
      ctx.rows.push({
        name:
          batch === 1
            ? `(h) the same, every statement for one message (idle service; ${fmt(messages)} messages × ${rounds} rounds)`
            : `(h) PostgreSQL alone: rollup triggers + fold vs none, accept/claim/sent in batches of ${batch}, receipts one by one (${fmt(messages)} messages × ${rounds} rounds)`,
        figure:
          (cpuOn !== null && cpuOff !== null
            ? `PostgreSQL CPU ${fmt((cpuOn * 1000) / messages)} vs ${fmt((cpuOff * 1000) / messages)} µs/message; `
            : '') +
          `wall ${fmt((wallOn * 1000) / messages)} vs ${fmt((wallOff * 1000) / messages)} µs/message`,
        target: 'reported (the database writes alone)',
        ratio: `${fmt(ratio * 100, 1)} %${cpuRatio !== null ? ` (CPU; wall ${fmt(wallRatio * 100, 1)} %)` : ' (wall)'}`,
        met: null,
      });
      const shape = batch === 1 ? 'single' : `batch${batch}`;
      const what = batch === 1 ? 'one message at a time' : `batches of ${batch}`;
      if (cpuOn !== null)
        figures.push({
          key: `h.pg.${shape}.cpu`,
          label: `(h) PostgreSQL CPU per message with the rollup, ${what}`,
          value: (cpuOn * 1000) / messages,
          unit: 'µs',
          better: 'lower',
        });
      figures.push({
        key: `h.pg.${shape}.ratio`,
        label: `(h) PostgreSQL without / with the rollup, ${what} (${cpuRatio !== null ? 'CPU' : 'wall'})`,
        value: ratio * 100,
        unit: '%',
        better: 'higher',
      });
    }
    return figures;
  } finally {
    await setTriggers(true);
  }
}

/**
 * (h) End to end: the service (role all, sandbox provider without latency, receipts 20 ms after
 * the hand-over) takes 4,000-number send-bulks from accept to delivered, alternately with the
 * rollup triggers on sms_messages enabled and disabled (5 rounds each after a warm-up of each);
 * its worker's fold timer runs throughout. The ratio of the median rates is the rollup's cost to
 * the send path's throughput.
 */
export async function rollupSendPathScenario(ctx: BenchContext): Promise<Figure[]> {
  const { db } = ctx;
  const tenant = 9;
  const perRun = setting('rollup-e2e-messages', 'BENCH_ROLLUP_E2E_MESSAGES', 4000);
  const rounds = setting('rollup-e2e-rounds', 'BENCH_ROLLUP_E2E_ROUNDS', 5);
  const setTriggers = async (on: boolean) => {
    for (const t of ['sms_rollup_insert', 'sms_rollup_update'])
      await db.query(`ALTER TABLE sms_messages ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${t}`);
  };
  const svc = await ctx.startService({
    APP_ROLE: 'all',
    SANDBOX_DELIVERY_DELAY_MS: '20',
    SMS_WORKER_CONCURRENCY: '100',
  });
  let offset = 20_000;
  const run = async (on: boolean): Promise<number> => {
    await setTriggers(on);
    const started = performance.now();
    const { batchId } = await ctx.postBulk(tenant, ctx.numbers(perRun, offset));
    offset += perRun;
    const deadline = Date.now() + 180_000;
    for (;;) {
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM sms_messages WHERE batch_id = $1 AND status = 'delivered'`,
        [batchId],
      );
      if (rows[0].n >= perRun) break;
      if (Date.now() > deadline) throw new Error(`only ${rows[0].n} of ${perRun} delivered in time`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return perRun / ((performance.now() - started) / 1000);
  };
  try {
    await run(true); // warm-up
    await run(false);
    const on: number[] = [];
    const off: number[] = [];
    for (let r = 0; r < rounds; r++) {
      on.push(await run(true));
      off.push(await run(false));
    }
    const rateOn = median(on);
    const rateOff = median(off);
    const ratio = rateOn / rateOff;
    ctx.rows.push({
      name: `(h) send-bulk accept → delivered (receipts included), rollup triggers on vs off (${fmt(perRun)} messages × ${rounds} rounds each)`,
      figure: `${fmt(rateOn)} vs ${fmt(rateOff)} msg/s (rounds: ${on.map((x) => fmt(x)).join(', ')} vs ${off.map((x) => fmt(x)).join(', ')})`,
      // Issue 21: the rollup costs at most 5 % of throughput with receipts on.
      target: 'throughput with the rollup ≥ 95 % of without',
      ratio: `${fmt(ratio * 100, 1)} %`,
      met: ratio >= 0.95,
    });
    return [
      {
        key: 'h.e2e',
        label: '(h) send-bulk accept → delivered with the rollup, median',
        value: rateOn,
        unit: 'msg/s',
        better: 'higher',
      },
      {
        key: 'h.e2e.ratio',
        label: '(h) the same, with / without the rollup',
        value: ratio * 100,
        unit: '%',
        better: 'higher',
      },
    ];
  } finally {
    await setTriggers(true);
    await ctx.stopService(svc);
  }
}
