import { Client } from 'pg';
import { TestApp, TokenOptions } from './test-app';
import { eventually } from './wait';

/** Polls the status endpoint until the message reaches `status`; the error names the last one seen. */
export async function waitForStatus(
  t: TestApp,
  who: TokenOptions,
  id: string,
  status: string,
  timeoutMs = 10_000,
) {
  let last: unknown;
  try {
    return await eventually(
      async () => {
        const res = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who));
        last = res.body;
        return res.body.status === status ? res.body : undefined;
      },
      timeoutMs,
      `message ${id} to become ${status}`,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last seen ${JSON.stringify(last)}`, { cause: e });
  }
}

/**
 * Cancels the messages earlier suites left waiting (queued, scheduled or stuck in sending) in the
 * run's shared database, so a suite that counts its provider's calls counts only its own: the
 * new app's sweeper would otherwise send them too. Call before the suite's app starts.
 */
export async function cancelLeftoverMessages(): Promise<void> {
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  try {
    await db.query(
      `UPDATE sms_messages SET status = 'canceled' WHERE status IN ('queued', 'scheduled', 'sending')`,
    );
  } finally {
    await db.end();
  }
}
