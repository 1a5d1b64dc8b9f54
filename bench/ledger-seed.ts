/**
 * Seeds the message ledger of a scratch database for the partitioned-ledger benchmarks
 * (bench/partition-migration.ts, bench/ledger-scale.ts): `n` messages spread evenly over the 12
 * months before `now`, 8 tenants (one with about a third of the traffic), 5 message types, two
 * providers, mostly delivered, every one final; two events each (accepted, final). One
 * INSERT … SELECT generate_series per month (so the rollup triggers run as on the write path, on
 * statements of a manageable size), then the events likewise.
 */
import { Client } from 'pg';

export const SEED_MONTHS = 12;
export const SEED_TENANTS = Array.from({ length: 8 }, (_, i) => 9001 + i);

/** A UUIDv7 of `ts` in SQL, random bits from md5(g): `(… 32 hex digits …)::uuid`. */
export const V7_SQL = `(lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7'
  || substr(md5(g::text), 1, 3) || '8' || substr(md5(g::text), 4, 15))::uuid`;
/** What every message had before UUIDv7. */
export const V4_SQL = 'gen_random_uuid()';

export interface SeedResult {
  messages: number;
  events: number;
  ms: number;
}

export async function seedLedger(
  db: Client,
  n: number,
  opts: { idSql: string; now?: Date; log?: (s: string) => void },
): Promise<SeedResult> {
  const t0 = performance.now();
  const now = opts.now ?? new Date();
  const start = new Date(now.getTime() - 365 * 86_400_000);
  for (const t of SEED_TENANTS)
    await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'bench ledger') ON CONFLICT DO NOTHING`, [t]);
  const per = Math.ceil(n / SEED_MONTHS);
  const span = (now.getTime() - start.getTime()) / SEED_MONTHS;
  for (let m = 0; m < SEED_MONTHS; m++) {
    const lo = m * per + 1;
    const hi = Math.min(n, (m + 1) * per);
    if (hi < lo) break;
    const from = new Date(start.getTime() + m * span);
    // g's row: time evenly spread over its twelfth of the year; the rest from hashes of g.
    await db.query(
      `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, country, body, message_type, language,
                                 status, provider, provider_message_id, segments, encoding, estimated_cost,
                                 cost, currency, attempts, sent_at, delivered_at, created_at, updated_at)
       SELECT ${opts.idSql}, tenant, 'svc-' || (g % 3), '+1202555' || lpad((g % 10000)::text, 4, '0'), 'US',
              'Your training session starts at 10:00. Reply STOP to opt out.',
              (ARRAY['general_notification','appointment_reminder','assessment_notification','password_reset','2fa_code'])[1 + g % 5],
              CASE WHEN g % 4 = 0 THEN 'tr' ELSE 'en' END,
              st, CASE WHEN g % 3 = 0 THEN 'sns' ELSE 'twilio' END, 'SM' || md5(g::text), 1, 'GSM-7', 0.0079,
              CASE WHEN st = 'canceled' THEN NULL ELSE 0.0079 END, 'USD', 1,
              CASE WHEN st = 'canceled' THEN NULL ELSE ts + interval '1 second' END,
              CASE WHEN st = 'delivered' THEN ts + interval '3 seconds' END, ts, ts + interval '3 seconds'
         FROM (SELECT g, $3::timestamptz + (g - $1) * ($4::float8 / ($2 - $1 + 1)) * interval '1 millisecond' AS ts,
                      CASE WHEN abs(hashint4(g)) % 100 < 35 THEN ${SEED_TENANTS[0]}
                           ELSE ${SEED_TENANTS[0]} + 1 + abs(hashint4(g + 7)) % ${SEED_TENANTS.length - 1} END AS tenant,
                      CASE WHEN abs(hashint4(g + 1)) % 100 < 86 THEN 'delivered'
                           WHEN abs(hashint4(g + 1)) % 100 < 91 THEN 'failed'
                           WHEN abs(hashint4(g + 1)) % 100 < 95 THEN 'undelivered'
                           WHEN abs(hashint4(g + 1)) % 100 < 99 THEN 'sent' ELSE 'canceled' END AS st
                 FROM generate_series($1::int, $2::int) g) s`,
      [lo, hi, from, span],
    );
    opts.log?.(`seeded messages ${hi.toLocaleString('en-US')} / ${n.toLocaleString('en-US')}`);
  }
  // Two events a message, by month of acceptance (the BRIN index on created_at finds each month).
  for (let m = 0; m < SEED_MONTHS; m++) {
    const from = new Date(start.getTime() + m * span);
    const to = new Date(start.getTime() + (m + 1) * span + (m === SEED_MONTHS - 1 ? 1000 : 0));
    await db.query(
      `INSERT INTO sms_message_events (message_id, status, source, at)
       SELECT id, 'queued', 'api', created_at FROM sms_messages WHERE created_at >= $1 AND created_at < $2
       UNION ALL
       SELECT id, status, 'receipt', updated_at FROM sms_messages WHERE created_at >= $1 AND created_at < $2`,
      [from, to],
    );
    opts.log?.(`seeded events of month ${m + 1} / ${SEED_MONTHS}`);
  }
  const [{ messages, events }] = (
    await db.query(
      `SELECT (SELECT count(*) FROM sms_messages)::int AS messages, (SELECT count(*) FROM sms_message_events)::int AS events`,
    )
  ).rows;
  return { messages, events, ms: performance.now() - t0 };
}

/** A scratch database, created empty (dropped first if a previous run left it). */
export async function scratchDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** `--name=value` from the command line, else the default. */
export function arg(name: string, dflt: string): string {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
}
