/**
 * `npm run bench:ledger -- scale [--messages=10000000] [--samples=300] [--keep]`: the partitioned
 * ledger at scale, on a scratch database (`sms_bench_ledger`, never the test database): the
 * service's own code (MessagesRepository, AnalyticsService, LedgerPartitions,
 * SystemMessagesRepository) over a TypeORM data source, without HTTP, sequential calls:
 * - status by id (`findOne` + `events`, what GET /api/sms/messages/{id}/status reads): p50 / p95;
 * - a history page (50 rows, a tenant's newest, or from a cursor somewhere in the year): p50 / p95;
 * - stats (`GET /api/sms/stats?group_by=day` over 90 days, a tenant admin): p50 / p95;
 * - dropping a month (retention's detach and drop of both partitions) against deleting one
 *   (retention's row delete, chunks of 10,000, of the next month's messages, events cascading).
 * Seeded with UUIDv7 messages over the 12 months before now (bench/ledger-seed.ts), partitions
 * made by LedgerPartitions as the `partitions` job makes them. Dropped afterwards unless `--keep`.
 * `--db=NAME` names the scratch database. `--unpartitioned`: the same on the ledger as it was before migration 1764019000000 (one table),
 * the baseline; the month is then only deleted.
 */
import { Client } from 'pg';
import { AnalyticsService } from '../src/analytics/analytics.service';
import { RollupService } from '../src/analytics/rollup.service';
import { Clock } from '../src/common/clock';
import { loadConfig } from '../src/config/app-config';
import { ReplicaReads } from '../src/database/replica-reads';
import { utcMonthStart } from '../src/core/uuid7';
import { MIGRATIONS } from '../migrations';
import { PartitionedLedger1764019000000 } from '../migrations/1764019000000-partitioned-ledger';
import { createDataSource } from '../src/database/data-source';
import { LedgerPartitions, monthPartition } from '../src/messaging/repositories/ledger-partitions';
import { MessagesRepository } from '../src/messaging/repositories/messages.repository';
import { SystemMessagesRepository } from '../src/messaging/repositories/system-messages.repository';
import { fmt, percentile } from './context';
import {
  arg,
  dropDatabase,
  scratchDatabase,
  SEED_MONTHS,
  SEED_TENANTS,
  seedLedger,
  V7_SQL,
} from './ledger-seed';
import { load, machine } from './report';

const ADMIN = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function timed(
  samples: number,
  fn: (i: number) => Promise<unknown>,
): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 10; i++) await fn(i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

export async function ledgerScale(): Promise<void> {
  const n = Number(arg('messages', '10000000'));
  const samples = Number(arg('samples', '300'));
  const log = (s: string) => console.log(`[${new Date().toISOString()}] ${s}`);
  const flat = process.argv.includes('--unpartitioned');
  const NAME = arg('db', flat ? 'sms_bench_ledger_flat' : 'sms_bench_ledger');
  const url = await scratchDatabase(ADMIN, NAME);
  const ds = createDataSource(url, 4);
  if (flat) ds.setOptions({ migrations: MIGRATIONS.filter((m) => m !== PartitionedLedger1764019000000) });
  const lines: string[] = [];
  try {
    await ds.initialize();
    await ds.runMigrations();
    const partitions = new LedgerPartitions(ds);
    const now = new Date();
    if (!flat) {
      for (let m = -SEED_MONTHS; m < 0; m++) await partitions.create(monthPartition(utcMonthStart(now, m)));
      await partitions.ensureAhead(3, now);
    }
    const db = new Client({ connectionString: url });
    await db.connect();
    const seeded = await seedLedger(db, n, { idSql: V7_SQL, now, log });
    log(`seeded in ${(seeded.ms / 1000).toFixed(0)} s; folding the rollup`);
    await new RollupService(ds).fold();
    await db.query('VACUUM ANALYZE sms_messages');
    await db.query('VACUUM ANALYZE sms_message_events');
    const [{ size }] = (
      await db.query(
        flat
          ? `SELECT pg_size_pretty(pg_total_relation_size('sms_messages') + pg_total_relation_size('sms_message_events')) AS size`
          : `SELECT pg_size_pretty(pg_total_relation_size('sms_messages_legacy') + coalesce(sum(pg_total_relation_size(inhrelid)), 0)) AS size
               FROM pg_inherits WHERE inhparent IN ('sms_messages'::regclass, 'sms_message_events'::regclass)`,
      )
    ).rows;
    lines.push(
      `Seed: ${fmt(seeded.messages)} messages and ${fmt(seeded.events)} events over 12 months, ${SEED_TENANTS.length} tenants (${size} with indexes), seeded in ${fmt(seeded.ms / 1000)} s.`,
    );

    const sample: { id: string; tenant_id: number }[] = (
      await db.query(`SELECT id, tenant_id FROM sms_messages TABLESAMPLE SYSTEM (1) LIMIT $1`, [samples])
    ).rows;
    // No DATABASE_READ_URL: every read on this database (the primary).
    const reads = new ReplicaReads(ds, loadConfig({ ...process.env, DATABASE_READ_URL: '' }));
    const messages = new MessagesRepository(ds, reads);
    const status = await timed(samples, async (i) => {
      const s = sample[i % sample.length];
      const row = await messages.findOne(s.tenant_id, s.id);
      if (!row) throw new Error(`bench: ${s.id} not found`);
      await messages.events(s.tenant_id, s.id);
    });
    lines.push(`| status by id (findOne + events) | ${fmt(status.p50, 2)} ms | ${fmt(status.p95, 2)} ms |`);
    const newest = await timed(samples, (i) =>
      messages.history(SEED_TENANTS[i % SEED_TENANTS.length], { limit: 50 }),
    );
    lines.push(`| history, newest page (50) | ${fmt(newest.p50, 2)} ms | ${fmt(newest.p95, 2)} ms |`);
    const yearMs = 365 * 86_400_000;
    const deep = await timed(samples, (i) =>
      messages.history(SEED_TENANTS[i % SEED_TENANTS.length], {
        limit: 50,
        before: {
          createdAt: new Date(now.getTime() - ((i * 7919) % 1000) * (yearMs / 1000)),
          id: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
        },
      }),
    );
    lines.push(
      `| history, a page from a cursor in the year (50) | ${fmt(deep.p50, 2)} ms | ${fmt(deep.p95, 2)} ms |`,
    );
    const analytics = new AnalyticsService(reads, new Clock());
    const period = analytics.period(
      new Date(now.getTime() - 89 * 86_400_000).toISOString().slice(0, 10),
      now.toISOString().slice(0, 10),
    );
    const stats = await timed(Math.min(samples, 100), (i) =>
      analytics.stats(
        { tenantId: SEED_TENANTS[i % SEED_TENANTS.length], createdBy: null },
        { ...period, groupBy: 'day' },
      ),
    );
    lines.push(
      `| stats, 90 days by day (tenant admin) | ${fmt(stats.p50, 2)} ms | ${fmt(stats.p95, 2)} ms |`,
    );

    // Retention: the oldest whole month dropped, the next one deleted row by row (unpartitioned:
    // the second month deleted, for the same rows).
    const months = [0, 1, 2].map((k) => monthPartition(utcMonthStart(now, k - SEED_MONTHS)));
    const [first, second] = [months[1], months[2]];
    const count = async (p: { from: Date; to: Date }) =>
      Number(
        (
          await db.query(
            `SELECT count(*) AS c FROM sms_messages WHERE created_at >= $1 AND created_at < $2`,
            [p.from, p.to],
          )
        ).rows[0].c,
      );
    const days = (d: Date) => (now.getTime() - d.getTime()) / 86_400_000;
    const purge = new SystemMessagesRepository(ds);
    // The partial first month (the seed starts a year ago today) goes first, out of the figures.
    if (flat) await purge.purgeRetained(Math.floor(days(first.from)), 10_000);
    else await partitions.dropExpired(days(first.from), now);
    if (!flat) {
      const firstRows = await count(first);
      const t0 = performance.now();
      const dropped = await partitions.dropExpired(days(first.to), now);
      const dropMs = performance.now() - t0;
      if (!dropped.includes(first.suffix)) throw new Error(`bench: ${first.suffix} was not dropped`);
      lines.push(
        `| retention, drop a month (detach + drop, ${fmt(firstRows)} messages and their events) | ${fmt(dropMs, 0)} ms | |`,
      );
    }
    const month = flat ? first : second;
    const rows = await count(month);
    const t0 = performance.now();
    // Whole days (make_interval): the cutoff falls a few hours into the next month.
    const deleted = await purge.purgeRetained(Math.floor(days(month.to)), 10_000);
    const deleteMs = performance.now() - t0;
    lines.push(
      `| retention, delete a month (row delete in chunks of 10,000, ${fmt(deleted.messages)} of ${fmt(rows)} messages, events cascading) | ${fmt(deleteMs, 0)} ms | |`,
    );
    await db.end();
    console.log(
      [
        `Ledger at scale (${flat ? 'unpartitioned, the baseline' : 'partitioned'}), ${new Date().toISOString()} on ${machine()}; load average at the end ${load()}.`,
        '',
        '| measured | p50 | p95 |',
        '| --- | --- | --- |',
        ...lines.filter((l) => l.startsWith('|')),
        '',
        ...lines.filter((l) => !l.startsWith('|')),
      ].join('\n'),
    );
  } finally {
    if (ds.isInitialized) await ds.destroy();
    if (!process.argv.includes('--keep')) await dropDatabase(ADMIN, NAME);
  }
}
