/**
 * Figures from the source of truth: what the fake providers received (what "went out") and what
 * sms_messages says, read directly with SQL.
 */
import type { Pool } from 'pg';
import { ledgerKey, Providers } from './providers';
import { FINAL_STATUSES } from './stack';
import { until } from './wait';

export interface Outcome {
  accepted: number;
  /** Accepted messages that reached a provider at least once. */
  received: number;
  /** Accepted messages that reached a provider more than once. */
  doubled: number;
  /** Accepted messages with no final status by the deadline that never reached a provider. */
  lost: number;
  /** Rows left in `sending`. */
  stranded: number;
  unknown: number;
  failed: number;
  failedCodes: Record<string, number>;
  /** Rows marked failed although a provider received the message. */
  failedButReceived: number;
  /** Accepted ids without a row. */
  missingRows: number;
  /** Messages with a scenario body that went out without an accepted id (e.g. answered 5xx). */
  receivedUnaccepted: number;
  statuses: Record<string, number>;
}

interface Row {
  id: string;
  phone_number: string;
  body: string;
  status: string;
  error_code: string | null;
}

async function rows(db: Pool, ids: string[]): Promise<Row[]> {
  const { rows: r } = await db.query<Row>(
    'SELECT id, phone_number, body, status, error_code FROM sms_messages WHERE id = ANY($1::uuid[])',
    [ids],
  );
  return r;
}

/** How many of the ids are not yet in a final status (missing rows count); throws if PG is down. */
export async function notFinal(db: Pool, ids: string[]): Promise<number> {
  const { rows: r } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sms_messages WHERE id = ANY($1::uuid[]) AND status = ANY($2)',
    [ids, FINAL_STATUSES],
  );
  return ids.length - r[0].n;
}

/**
 * How many of the ids are not settled: not final, or `unknown` while the outcome resolver is
 * still asking the provider (any error code but the final `outcome_unknown`).
 */
export async function unsettled(db: Pool, ids: string[]): Promise<number> {
  const { rows: r } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sms_messages WHERE id = ANY($1::uuid[]) AND status = ANY($2)
        AND NOT (status = 'unknown' AND error_code IS DISTINCT FROM 'outcome_unknown')`,
    [ids, FINAL_STATUSES],
  );
  return ids.length - r[0].n;
}

/** How the outcome resolver settled these messages: events it wrote, by status (sent, queued, unknown). */
export async function resolverSettled(db: Pool, ids: string[]): Promise<Record<string, number>> {
  const { rows: r } = await db.query<{ status: string; n: number }>(
    `SELECT status, count(DISTINCT message_id)::int AS n FROM sms_message_events
      WHERE message_id = ANY($1::uuid[]) AND source = 'resolver' GROUP BY status`,
    [ids],
  );
  return Object.fromEntries(r.map((x) => [x.status, x.n]));
}

export async function countStatus(db: Pool, ids: string[], status: string): Promise<number> {
  const { rows: r } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sms_messages WHERE id = ANY($1::uuid[]) AND status = $2',
    [ids, status],
  );
  return r[0].n;
}

/** Waits until every id is final; the time it took in ms, or undefined at the deadline. */
export async function waitFinal(db: Pool, ids: string[], timeoutMs: number): Promise<number | undefined> {
  const started = performance.now();
  const ok = await until(async () => (await notFinal(db, ids)) === 0, timeoutMs, 500);
  return ok ? performance.now() - started : undefined;
}

export async function outcome(
  db: Pool,
  ids: string[],
  bodies: string[],
  providers: Providers,
): Promise<Outcome> {
  const unique = [...new Set(ids)];
  let found: Row[] = [];
  // PostgreSQL may just be coming back.
  if (!(await until(async () => ((found = await rows(db, unique)), true), 30_000, 500)))
    throw new Error('could not read sms_messages');
  const ledger = providers.ledger();
  const body = new Set(bodies);
  const o: Outcome = {
    accepted: unique.length,
    received: 0,
    doubled: 0,
    lost: unique.length - found.length,
    stranded: 0,
    unknown: 0,
    failed: 0,
    failedCodes: {},
    failedButReceived: 0,
    missingRows: unique.length - found.length,
    receivedUnaccepted: 0,
    statuses: {},
  };
  const acceptedKeys = new Set<string>();
  for (const r of found) {
    const key = ledgerKey(r.phone_number, r.body);
    const n = ledger.get(key) ?? 0;
    acceptedKeys.add(key);
    o.statuses[r.status] = (o.statuses[r.status] ?? 0) + 1;
    if (n > 0) o.received += 1;
    if (n > 1) o.doubled += 1;
    if (!FINAL_STATUSES.includes(r.status) && n === 0) o.lost += 1;
    if (r.status === 'sending') o.stranded += 1;
    if (r.status === 'unknown') o.unknown += 1;
    if (r.status === 'failed') {
      o.failed += 1;
      const code = r.error_code ?? 'none';
      o.failedCodes[code] = (o.failedCodes[code] ?? 0) + 1;
      if (n > 0) o.failedButReceived += 1;
    }
  }
  for (const key of ledger.keys()) {
    if (body.has(key.slice(key.indexOf('\u0000') + 1)) && !acceptedKeys.has(key)) o.receivedUnaccepted += 1;
  }
  return o;
}

/** p-th percentile (0..100) of the values; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
