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
