/**
 * (j) A bulk on a ledger with history. The month's partition already holds HISTORY delivered
 * messages and has been analysed, as a production ledger's has been by autovacuum, when one
 * BULK-number send-bulk arrives: accept → sent. The statistics then say the partition holds
 * almost no waiting rows, and the worker's claims and outcome writes are planned by them (migration
 * 1764019400000). A phase of bench/run.ts (`--only=history`).
 */
import { Client } from 'pg';
import { BenchContext, Figure, fmt } from '../context';
import { CONCURRENCY, waitSent } from './core';

const HISTORY = Number(process.env.BENCH_HISTORY ?? 100_000);
const BULK = Number(process.env.BENCH_HISTORY_BULK ?? 2_000);
/** The tenant whose month it is: none of the other phases' (1–4). */
const HISTORY_TENANT = 5;

/** HISTORY delivered messages of this month, in statements of 10,000; then ANALYZE. */
async function seedHistory(db: Client): Promise<void> {
  await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'bench history') ON CONFLICT DO NOTHING`, [
    HISTORY_TENANT,
  ]);
  for (let done = 0; done < HISTORY; done += 10_000) {
    // UUIDv7 ids of now, so the rows land in the month's partition where the bulk's rows go.
    await db.query(
      `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, status, segments,
                                 encoding, currency, created_at, updated_at, sent_at, delivered_at, provider,
                                 provider_message_id)
       SELECT v.id, $1, 'bench', '+1202555' || lpad((n % 10000)::text, 4, '0'), 'Your appointment is tomorrow',
              'appointment_reminder', 'delivered', 1, 'GSM-7', 'USD', now(), now(), now(), now(), 'sandbox',
              'SB' || n
         FROM generate_series(1, $2) AS n,
              LATERAL (SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
                               || '7' || substr(md5(random()::text || n), 1, 3) || '8'
                               || substr(md5(n::text || random()::text), 1, 15))::uuid AS id) v`,
      [HISTORY_TENANT, Math.min(10_000, HISTORY - done)],
    );
  }
  await db.query('ANALYZE sms_messages');
}

export async function ledgerWithHistory(ctx: BenchContext): Promise<Figure[]> {
  const seeded = performance.now();
  await seedHistory(ctx.db);
  const seedS = (performance.now() - seeded) / 1000;
  const svc = await ctx.startService({ APP_ROLE: 'all', SMS_WORKER_CONCURRENCY: String(CONCURRENCY) });
  try {
    const started = performance.now();
    const bulk = await ctx.postBulk(2, ctx.numbers(BULK, 50_000));
    const end = await waitSent(ctx.db, [bulk.batchId], BULK, 600_000);
    const rate = BULK / ((end - started) / 1000);
    ctx.rows.push({
      name: `(j) send-bulk of ${fmt(BULK)} on a ledger of ${fmt(HISTORY)} delivered messages (analysed), accept → sent`,
      figure: `${fmt(rate)} msg/s (seed ${fmt(seedS, 1)} s)`,
      target: 'reported',
      ratio: '',
      met: null,
    });
    return [
      {
        key: 'j',
        label: `(j) send-bulk of ${fmt(BULK)} on ${fmt(HISTORY)} delivered, accept → sent`,
        value: rate,
        unit: 'msg/s',
        better: 'higher',
      },
    ];
  } finally {
    await ctx.stopService(svc);
  }
}
