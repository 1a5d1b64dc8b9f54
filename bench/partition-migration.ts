/**
 * `npm run bench:ledger -- migration [--messages=1000000] [--keep]`: how long migration
 * 1764019000000-partitioned-ledger takes to convert an existing ledger in place. A scratch
 * database (`sms_bench_partition_migration`, never the test database) is migrated up to the
 * migration before it, seeded with UUIDv4 messages as the service wrote them before (two events
 * each, over 12 months, 8 tenants), vacuumed and analysed, and then the one migration is run and
 * timed. The database is dropped afterwards unless `--keep`. Figures: docs/BENCHMARKS.md.
 */
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../migrations';
import { PartitionedLedger1764019000000 } from '../migrations/1764019000000-partitioned-ledger';
import { dataSourceOptions } from '../src/database/data-source';
import { arg, dropDatabase, scratchDatabase, seedLedger, V4_SQL } from './ledger-seed';
import { load, machine } from './report';

const ADMIN = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NAME = 'sms_bench_partition_migration';

export async function partitionMigration(): Promise<void> {
  const n = Number(arg('messages', '1000000'));
  const url = await scratchDatabase(ADMIN, NAME);
  const log = (s: string) => console.log(`[${new Date().toISOString()}] ${s}`);
  try {
    const before = new DataSource({
      ...dataSourceOptions(url, 2),
      migrations: MIGRATIONS.filter((m) => m !== PartitionedLedger1764019000000),
    });
    await before.initialize();
    await before.runMigrations();
    await before.destroy();
    const db = new Client({ connectionString: url });
    await db.connect();
    const seeded = await seedLedger(db, n, { idSql: V4_SQL, log });
    log(`seeded ${seeded.messages} messages, ${seeded.events} events in ${(seeded.ms / 1000).toFixed(0)} s`);
    await db.query('VACUUM ANALYZE sms_messages');
    await db.query('VACUUM ANALYZE sms_message_events');
    await db.query('CHECKPOINT');
    const [{ size }] = (
      await db.query(
        `SELECT pg_size_pretty(pg_total_relation_size('sms_messages') + pg_total_relation_size('sms_message_events')) AS size`,
      )
    ).rows;
    const after = new DataSource(dataSourceOptions(url, 2));
    await after.initialize();
    const t0 = performance.now();
    const applied = await after.runMigrations();
    const ms = performance.now() - t0;
    await after.destroy();
    const [{ moved }] = (
      await db.query(
        `SELECT count(*)::int AS moved FROM sms_messages WHERE tableoid <> 'sms_messages_legacy'::regclass`,
      )
    ).rows;
    await db.end();
    console.log(
      [
        `migration ${applied.map((m) => m.name).join(', ')} on ${seeded.messages.toLocaleString('en-US')} messages` +
          ` and ${seeded.events.toLocaleString('en-US')} events (${size}): ${(ms / 1000).toFixed(1)} s`,
        `old ids that fell in a month partition's range and moved: ${moved}`,
        `${new Date().toISOString()} on ${machine()}; load average ${load()}`,
      ].join('\n'),
    );
  } finally {
    if (!process.argv.includes('--keep')) await dropDatabase(ADMIN, NAME);
  }
}
