import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { uuidv7, uuidv7Time } from '../../src/core';
import { RetentionJob } from '../../src/jobs/retention.job';
import { LedgerPartitions, monthPartition } from '../../src/messaging';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/** The month partition name a row of this table with this key lives in. */
const home = async (ds: DataSource, table: string, key: string, id: string): Promise<string | null> =>
  (await ds.query(`SELECT tableoid::regclass::text AS t FROM ${table} WHERE ${key} = $1`, [id]))[0]?.t ??
  null;

describe('the partitioned ledger (sms_messages and its events by UUIDv7 month)', () => {
  let t: TestApp;
  let ds: DataSource;
  let partitions: LedgerPartitions;
  const tenant = freshTenantId();
  const who = { tenant, roles: ['admin'] };

  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
    ds = t.get(DataSource);
    partitions = t.get(LedgerPartitions);
    // Up to a minute of brief tries (production: 20), as the other suites' load on this shared
    // database may hold the default partition or the parents for a while.
    partitions.locks = { waitMs: 200, tries: 200, pauseMs: [100, 300] };
    await ds.query(`INSERT INTO tenants (id, name) VALUES ($1, 'partitions') ON CONFLICT DO NOTHING`, [
      tenant,
    ]);
  });
  afterAll(() => t.close());

  /** A message row (and its first event) with this id, status and acceptance time, as the accept path writes one. */
  const seed = async (id: string, status: string, createdAt: Date, scheduledAt: Date | null = null) => {
    await ds.query(
      `WITH m AS (
         INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, language, status,
                                   segments, encoding, estimated_cost, currency, scheduled_at, created_at, updated_at)
         VALUES ($1, $2, 'seeder', '+12025550123', 'seeded', 'general_notification', 'en', $3, 1, 'GSM-7',
                 0.0079, 'USD', $5, $4, $4) RETURNING id, status, created_at)
       INSERT INTO sms_message_events (message_id, status, source, at) SELECT id, status, 'seed', created_at FROM m`,
      [id, tenant, status, createdAt, scheduledAt],
    );
    return id;
  };
  const idOf = (at: Date) => uuidv7(at, (n) => randomBytes(n));

  it("gives a sent message a UUIDv7 id of its accept time, in that month's partitions, and reads it by id from that partition alone", async () => {
    const before = Date.now();
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', message: 'partitioned' })
      .expect(202);
    const id = res.body.message_id as string;
    const at = uuidv7Time(id);
    expect(at?.getTime()).toBeGreaterThanOrEqual(before);
    expect(at?.getTime()).toBeLessThanOrEqual(Date.now());
    const month = monthPartition(at as Date).suffix;
    expect(await home(ds, 'sms_messages', 'id', id)).toBe(`sms_messages_${month}`);
    expect(await home(ds, 'sms_message_events', 'message_id', id)).toBe(`sms_message_events_${month}`);
    const plan: { 'QUERY PLAN': string }[] = await ds.query(
      `EXPLAIN SELECT * FROM sms_messages WHERE tenant_id = ${tenant} AND id = '${id}'`,
    );
    const scanned = plan
      .map((r) => r['QUERY PLAN'])
      .join('\n')
      .match(/ on sms_messages_\w+/g);
    expect(scanned).toEqual([expect.stringContaining(`sms_messages_${month}`)]);
    await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
  });

  it("has the primary key as the ledger's only unique rule, and no foreign key into it", async () => {
    const unique: { name: string }[] = await ds.query(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'sms_messages'::regclass AND i.indisunique`,
    );
    expect(unique.map((u) => u.name)).toEqual(['sms_messages_pkey']);
    // A key checked row by row against the partitioned ledger cost most of a message's write, and
    // its cached plan could scan a whole month per row (migration 1764019100000).
    const incoming: { table: string }[] = await ds.query(
      `SELECT conrelid::regclass::text AS table FROM pg_constraint
        WHERE confrelid = 'sms_messages'::regclass AND contype = 'f'`,
    );
    expect(incoming).toEqual([]);
  });

  it('creates this month and the months ahead once: a second run creates nothing', async () => {
    await partitions.ensureAhead(3);
    expect(await partitions.ensureAhead(3)).toEqual([]);
    const have = (await partitions.months()).map((p) => p.suffix);
    const now = new Date();
    for (let m = 0; m <= 3; m++)
      expect(have).toContain(
        monthPartition(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + m, 1))).suffix,
      );
  });

  it("moves the default partition's rows of a new month's range into it, events too, and they stay readable", async () => {
    // An id of a month without a partition (an old UUIDv4 can fall in any month's range just so).
    const month = monthPartition(new Date(Date.UTC(2031, 2, 1)));
    const id = await seed(idOf(new Date(Date.UTC(2031, 2, 10))), 'delivered', new Date());
    expect(await home(ds, 'sms_messages', 'id', id)).toBe('sms_messages_legacy');
    await partitions.create(month);
    expect(await home(ds, 'sms_messages', 'id', id)).toBe(`sms_messages_${month.suffix}`);
    expect(await home(ds, 'sms_message_events', 'message_id', id)).toBe(`sms_message_events_${month.suffix}`);
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body.status).toBe('delivered');
    // A new row of that month goes straight to it; the default partition refuses one now.
    const next = await seed(idOf(new Date(Date.UTC(2031, 2, 11))), 'delivered', new Date());
    expect(await home(ds, 'sms_messages', 'id', next)).toBe(`sms_messages_${month.suffix}`);
    await expect(
      ds.query(`INSERT INTO sms_messages_legacy SELECT * FROM sms_messages WHERE id = $1`, [next]),
    ).rejects.toThrow(/check constraint/);
  });

  it('retention drops a month whose messages are all final and past retention, with its events; keeps a month with a waiting message or a row inside retention', async () => {
    const jan = monthPartition(new Date(Date.UTC(2020, 0, 1)));
    const feb = monthPartition(new Date(Date.UTC(2020, 1, 1)));
    const mar = monthPartition(new Date(Date.UTC(2020, 2, 1)));
    for (const p of [jan, feb, mar]) await partitions.create(p);
    const old = await seed(
      idOf(new Date(Date.UTC(2020, 0, 15))),
      'delivered',
      new Date(Date.UTC(2020, 0, 15)),
    );
    const old2 = await seed(idOf(new Date(Date.UTC(2020, 0, 16))), 'failed', new Date(Date.UTC(2020, 0, 16)));
    const waiting = await seed(
      idOf(new Date(Date.UTC(2020, 1, 3))),
      'scheduled',
      new Date(Date.UTC(2020, 1, 3)),
      new Date(Date.UTC(2099, 0, 1)),
    );
    const finishedBesideIt = await seed(
      idOf(new Date(Date.UTC(2020, 1, 4))),
      'delivered',
      new Date(Date.UTC(2020, 1, 4)),
    );
    // A campaign's message carries its campaign's time, and may be accepted much later.
    const late = await seed(idOf(new Date(Date.UTC(2020, 2, 5))), 'delivered', new Date());

    // A month whose locks are not granted in any of a run's brief tries (a busy ledger, here the
    // other suites' load on the shared database of a loaded CI host) waits for the next run, as in
    // production: runs again for up to a minute (three runs back to back missed once in CI).
    let dropped = 0;
    const until = Date.now() + 60_000;
    while (dropped === 0 && Date.now() < until)
      dropped += (await t.get(RetentionJob).run()).ledgerMonthsDropped;
    expect(dropped).toBeGreaterThanOrEqual(1);
    const have = (await partitions.months()).map((p) => p.suffix);
    expect(have).not.toContain(jan.suffix);
    expect(have).toEqual(expect.arrayContaining([feb.suffix, mar.suffix]));
    const left = await ds.query(`SELECT id FROM sms_messages WHERE id = ANY($1::uuid[]) ORDER BY id`, [
      [old, old2, waiting, finishedBesideIt, late],
    ]);
    // Row retention still deleted the finished message of the month it could not drop.
    expect(left.map((r: { id: string }) => r.id)).toEqual([waiting, late]);
    expect(
      await ds.query(`SELECT 1 FROM sms_message_events WHERE message_id = ANY($1::uuid[])`, [[old, old2]]),
    ).toEqual([]);
    const tables: { n: string }[] = await ds.query(
      `SELECT relname AS n FROM pg_class WHERE relname IN ($1, $2)`,
      [`sms_messages_${jan.suffix}`, `sms_message_events_${jan.suffix}`],
    );
    expect(tables).toEqual([]);
    // A late id of the dropped month still has a home: the default partition.
    const straggler = await seed(idOf(new Date(Date.UTC(2020, 0, 20))), 'delivered', new Date());
    expect(await home(ds, 'sms_messages', 'id', straggler)).toBe('sms_messages_legacy');
  }, 120_000);

  it("a month's drop that waits for its lock holds up sends for a moment per try, not for the whole wait, and drops the month once the reader is gone", async () => {
    const jun = monthPartition(new Date(Date.UTC(2019, 5, 1)));
    await partitions.create(jun);
    await seed(idOf(new Date(Date.UTC(2019, 5, 10))), 'delivered', new Date(Date.UTC(2019, 5, 10)));
    // A long reader of the ledger: it holds ACCESS SHARE on sms_messages until its transaction ends.
    const reader = ds.createQueryRunner();
    await reader.connect();
    await reader.startTransaction();
    await reader.query(`SELECT count(*) FROM sms_messages WHERE id = $1`, [idOf(new Date())]);
    const waiting = async () =>
      (
        await ds.query(
          `SELECT 1 FROM pg_locks WHERE relation = 'sms_messages'::regclass
              AND mode = 'AccessExclusiveLock' AND NOT granted`,
        )
      ).length > 0;
    let drop: Promise<string[]> | undefined;
    const sends: number[] = [];
    try {
      drop = partitions.dropExpired(30);
      // Seen in well under a second alone; under the whole suite's load once not within 10 s (a CI
      // flake whose cause the log did not show). What this test measures is the sends below.
      const seen = Date.now() + 30_000;
      while (!(await waiting()) && Date.now() < seen) await new Promise((r) => setTimeout(r, 10));
      expect(await waiting()).toBe(true);
      // Sends while the drop keeps asking for its lock behind the reader: PostgreSQL queues each
      // insert behind a waiting ACCESS EXCLUSIVE request, so a send waits out one try at most.
      const until = Date.now() + 3_000;
      while (Date.now() < until) {
        const t0 = Date.now();
        await t
          .http()
          .post('/api/sms/send')
          .set(t.auth(who))
          .send({ phone_number: '+12025550123', message: 'beside the drop' })
          .expect(202);
        sends.push(Date.now() - t0);
      }
    } finally {
      await reader.commitTransaction();
      await reader.release();
    }
    const dropped = await drop;
    expect(sends.length).toBeGreaterThan(2);
    // One 5 s wait held every send for up to 5 s.
    expect(Math.max(...sends)).toBeLessThan(2_000);
    expect(dropped).toContain(jun.suffix);
    expect((await partitions.months()).map((p) => p.suffix)).not.toContain(jun.suffix);
  }, 60_000);
});
