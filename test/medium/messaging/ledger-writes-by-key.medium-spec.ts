import { Client } from 'pg';
import { dropDatabase, ensureDatabase, migrate } from '../../../src/database/bootstrap';
import { uuidv7 } from '../../../src/core/uuid7';
import { WHATSAPP_MODE_SQL } from '../../../src/messaging/channels/channel-delivery';
import {
  RECORD_PROVIDER_SQL,
  WAITING_LANES_SQL,
  WAITING_SQL,
} from '../../../src/messaging/delivery/delivery-store';

/**
 * The worker's claim and outcome write find each row by its primary key, also where a partition's
 * statistics say it holds almost no waiting rows: a month of delivered messages, analysed, and then
 * a bulk. Before migration 1764019400000 their status re-checks matched `sms_messages_pending`, and
 * the planner found each of a claim's rows by scanning every queued row of the partition (850 ms
 * for 50 rows beside 300,000 delivered ones; docs/BENCHMARKS.md, "A ledger with history").
 *
 * A database of its own: the statistics are the point, and the shared one's depend on other suites.
 */
describe("the worker's ledger writes on a ledger with history", () => {
  const url = (() => {
    const u = new URL(process.env.DATABASE_URL as string);
    u.pathname = `${u.pathname}_bykey`;
    return u.toString();
  })();
  let db: Client;
  /** The plans auto_explain printed for the statements run inside the last call. */
  let plans: string[] = [];

  beforeAll(async () => {
    await ensureDatabase(url);
    await migrate(url);
    db = new Client({ connectionString: url });
    await db.connect();
    db.on('notice', (n) => plans.push(n.message ?? ''));
    await db.query(`INSERT INTO tenants (id, name) VALUES (1, 'history')`);
    // A month of delivered messages, and statistics taken before the bulk below.
    const now = new Date();
    const delivered = Array.from({ length: 20_000 }, () => uuidv7(now));
    await db.query(
      `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, status,
                                 segments, encoding, currency, created_at, updated_at, sent_at, delivered_at,
                                 provider, provider_message_id)
       SELECT id, 1, 'seeder', '+12025550123', 'seeded', 'general_notification', 'delivered', 1, 'GSM-7',
              'USD', $2, $2, $2, $2, 'twilio', 'SM' || replace(id::text, '-', '')
         FROM unnest($1::uuid[]) AS t(id)`,
      [delivered, now],
    );
    await db.query('ANALYZE sms_messages');
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    if (process.env.KEEP_TEST_DB !== 'true') await dropDatabase(url);
  });

  /** Runs `sql` with every nested statement's plan sent back as a notice. */
  async function explained<T>(sql: string, params: unknown[]): Promise<T[]> {
    await db.query(`LOAD 'auto_explain'`);
    await db.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
                    SET auto_explain.log_level = notice`);
    plans = [];
    try {
      return (await db.query(sql, params)).rows as T[];
    } finally {
      await db.query('SET auto_explain.log_min_duration = -1');
    }
  }

  /** The plans of the statements that update the ledger. */
  const ledgerUpdates = () => plans.filter((p) => /Update on sms_messages/.test(p));

  /** A bulk of 2,000 queued messages, after the statistics were taken. */
  let bulk: string[] = [];

  it('claims a bulk by key, and records its outcomes by key', async () => {
    const now = new Date();
    bulk = Array.from({ length: 2_000 }, () => uuidv7(now));
    await db.query(
      `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, status,
                                 segments, encoding, currency, created_at, updated_at)
       SELECT id, 1, 'seeder', '+12025550123', 'bulk', 'general_notification', 'queued', 1, 'GSM-7', 'USD', $2, $2
         FROM unnest($1::uuid[]) AS t(id)`,
      [bulk, now],
    );
    const ids = bulk.slice(0, 50);

    const claimed = await explained<{ id: string }>(
      'SELECT id FROM sms_claim_messages($1::uuid[], $2::timestamptz, $3::varchar[])',
      [ids, now, ['twilio']],
    );
    expect(claimed.map((c) => c.id).sort()).toEqual([...ids].sort());
    expect(ledgerUpdates().length).toBeGreaterThan(0);
    for (const plan of ledgerUpdates()) {
      expect(plan).not.toMatch(/status_updated_at/); // sms_messages_pending, on the partition
      expect(plan).toMatch(/sms_messages_p\d{4}_\d{2}_pkey/);
    }

    const recorded = await explained<{ id: string }>(
      `SELECT r.id FROM sms_record_outcomes($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[],
         $5::numeric[], $6::varchar[], $7::text[], $8::text[], $9::int[], $10::varchar[],
         $11::timestamptz, $12::varchar[]) AS r(id)`,
      [
        ids,
        ids.map(() => 'sent'),
        ids.map(() => 'twilio'),
        ids.map((id) => `SM${id.replace(/-/g, '')}`),
        ids.map(() => '0.0079'),
        ids.map(() => null),
        ids.map(() => null),
        ids.map(() => '["twilio"]'),
        ids.map(() => 0),
        ids.map(() => 'USD'),
        new Date(),
        ['delivered', 'undelivered', 'failed'],
      ],
    );
    expect(recorded.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(ledgerUpdates().length).toBeGreaterThan(0);
    for (const plan of ledgerUpdates()) {
      expect(plan).not.toMatch(/status_updated_at/);
      expect(plan).toMatch(/sms_messages_p\d{4}_\d{2}_pkey/);
    }
    const { rows } = await db.query(
      `SELECT status, count(*)::int AS n FROM sms_messages WHERE id = ANY($1::uuid[]) GROUP BY status`,
      [ids],
    );
    expect(rows).toEqual([{ status: 'sent', n: 50 }]);
  });

  it.each<[string, string, (ids: string[]) => unknown[]]>([
    ['which of a job’s messages still wait', WAITING_SQL, (ids: string[]) => [ids]],
    ['the same, with their lanes', WAITING_LANES_SQL, (ids: string[]) => [ids]],
    [
      'a provider recorded for an attempt',
      RECORD_PROVIDER_SQL,
      (ids: string[]) => [ids[0], 1, 'sns', new Date(), false],
    ],
    ['a WhatsApp mode recorded', WHATSAPP_MODE_SQL, (ids: string[]) => [ids[0], 'template']],
  ])('finds %s by key', async (_, sql, params) => {
    const ids = bulk.slice(100, 200);
    expect(ids).toHaveLength(100);
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params(ids));
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).not.toMatch(/status_updated_at/);
    expect(plan).toMatch(/sms_messages_p\d{4}_\d{2}_pkey/);
  });
});
