import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { OutcomeResolver } from '../../src/messaging';
import { RecordedRequest } from '../fakes/fake-http';
import { FakeTwilio } from '../fakes/fake-twilio';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';
import { fakeTwilioEnv } from '../fakes/provider-env';
import { NO_CONSENT_NEEDED } from '../support/tenants';

/**
 * The test numbers (docs/sending.md, "Test numbers") give their outcome with the sandbox provider,
 * and in test mode (a token claim or a tenant setting) whatever provider is configured, without a
 * request to that provider and at no cost.
 */

const SLOW_RECEIPT_MS = 2_500;
const FAST = {
  SANDBOX_DELIVERY_DELAY_MS: '100',
  SANDBOX_SLOW_RECEIPT_MS: String(SLOW_RECEIPT_MS),
  SMS_RETRY_BASE_MS: '50',
  SMS_MAX_ATTEMPTS: '3',
};

/** What each number ends as: status, error code, attempts, and the statuses of its events. */
const OUTCOMES: Record<
  string,
  { status: string; error_code: string | null; attempts: number; events: string[] }
> = {
  '+15005550011': {
    status: 'delivered',
    error_code: null,
    attempts: 1,
    events: ['queued', 'sending', 'sent', 'delivered'],
  },
  '+15005550012': {
    status: 'undelivered',
    error_code: 'sandbox:30003',
    attempts: 1,
    events: ['queued', 'sending', 'sent', 'undelivered'],
  },
  '+15005550009': {
    status: 'failed',
    error_code: 'sandbox:21614',
    attempts: 1,
    events: ['queued', 'sending', 'failed'],
  },
  '+15005550013': {
    status: 'delivered',
    error_code: null,
    attempts: 2,
    events: ['queued', 'sending', 'queued', 'sending', 'sent', 'delivered'],
  },
  '+15005550014': {
    status: 'delivered',
    error_code: null,
    attempts: 1,
    events: ['queued', 'sending', 'sent', 'delivered'],
  },
  '+15005550004': {
    status: 'failed',
    error_code: 'sandbox:21610',
    attempts: 1,
    events: ['queued', 'sending', 'failed'],
  },
  '+15005550001': {
    status: 'failed',
    error_code: 'sandbox:21211',
    attempts: 1,
    events: ['queued', 'sending', 'failed'],
  },
  '+15005550010': {
    status: 'failed',
    error_code: 'sandbox:http_503',
    attempts: 3,
    events: ['queued', 'sending', 'queued', 'sending', 'queued', 'sending', 'failed'],
  },
};
const NUMBERS = Object.keys(OUTCOMES);

type Status = { status: string; error_code: string | null; attempts: number; events: { status: string }[] };

async function send(t: TestApp, who: TokenOptions, phone: string, message: string) {
  const res = await t.http().post('/api/sms/send').set(t.auth(who)).send({ phone_number: phone, message });
  if (res.status !== 202) throw new Error(`send to ${phone}: ${res.status} ${res.text}`);
  return res.body as { message_id: string; estimated_cost: number | null; test_mode: boolean };
}

const statusOf = async (t: TestApp, who: TokenOptions, id: string) =>
  (await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200)).body as Status & {
    sent_at: string | null;
    delivered_at: string | null;
  };

/**
 * Every number reaches its outcome: the slow receipt's message stays `sent` after the others'
 * receipts came; each ends with its status, error code, attempts and events, in test mode or not;
 * the opted-out number is on the tenant's opt-out list.
 */
async function expectOutcomes(
  t: TestApp,
  who: TokenOptions,
  ids: Record<string, string>,
  testMode: boolean,
): Promise<void> {
  await waitForStatus(t, who, ids['+15005550011'], 'delivered');
  expect((await statusOf(t, who, ids['+15005550014'])).status).toBe('sent');
  for (const [phone, want] of Object.entries(OUTCOMES)) {
    const got = await waitForStatus(t, who, ids[phone], want.status, 15_000);
    expect({
      phone,
      ...got,
      events: got.events.map((e: { status: string }) => e.status).sort(),
    }).toMatchObject({
      phone,
      status: want.status,
      error_code: want.error_code,
      attempts: want.attempts,
      test_mode: testMode,
      events: [...want.events].sort(),
    });
  }
  const slow = await statusOf(t, who, ids['+15005550014']);
  expect(Date.parse(slow.delivered_at as string) - Date.parse(slow.sent_at as string)).toBeGreaterThan(
    SLOW_RECEIPT_MS - 500,
  );
  const optedOut = (
    await t
      .http()
      .get('/api/sms/opt-outs')
      .set(t.auth({ ...who, roles: ['admin'] }))
      .expect(200)
  ).body as { phone_number: string; source: string; reason: string }[];
  expect(optedOut).toEqual([
    expect.objectContaining({ phone_number: '+15005550004', source: 'provider', reason: 'sandbox:21610' }),
  ]);
}

describe('test mode with (fake) Twilio configured as the real provider', () => {
  const twilio = new FakeTwilio();
  const receiver = new WebhookReceiver();
  const marker = `test numbers ${randomUUID()}`;
  let t: TestApp;
  let ds: DataSource;

  beforeAll(async () => {
    await receiver.start();
    t = await createTestApp({
      env: {
        ...FAST,
        ...fakeTwilioEnv(await twilio.start()),
        SMS_PROVIDERS: 'twilio',
        PUBLIC_BASE_URL: 'https://sms.example.test',
        WEBHOOK_ALLOW_INSECURE: 'true',
        WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      },
    });
    ds = t.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await twilio.stop();
    await receiver.stop();
  });

  /** What reached Twilio of this suite's texts: lookups of its numbers included. */
  const reachedTwilio = (numbers: string[]) =>
    twilio.requests.filter(
      (r: RecordedRequest) =>
        (r.form.Body ?? '').includes(marker) || numbers.some((n) => decodeURIComponent(r.path).includes(n)),
    );

  const newTenant = async (settings: Record<string, unknown>) => {
    const id = freshTenantId();
    await t
      .http()
      .post('/api/sms/tenants')
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({ id, name: `tenant ${id}`, settings })
      .expect(201);
    return id;
  };

  it('refuses a token whose test_mode claim is not a boolean', async () => {
    const res = await t
      .http()
      .get('/api/sms/me')
      .set(
        'Authorization',
        `Bearer ${t.token({ tenant: freshTenantId(), testMode: 'yes' as unknown as boolean })}`,
      )
      .expect(401);
    expect(res.body.message).toContain('test_mode');
    const me = await t
      .http()
      .get('/api/sms/me')
      .set(t.auth({ tenant: 5, testMode: true }))
      .expect(200);
    expect(me.body).toMatchObject({ tenant_id: 5, test_mode: true });
  });

  it('gives each test number its outcome for a test-mode token, reaching neither Twilio nor the spend cap', async () => {
    // A cap of 0.01: one real 1-segment US text (0.0083 at Twilio's price) fits, a second does not.
    const tenant = await newTenant({ monthly_spend_cap: 0.01 });
    const who = { tenant, testMode: true };
    const ids: Record<string, string> = {};
    for (const phone of [...NUMBERS, '+12025550161']) {
      const accepted = await send(t, who, phone, `${marker}: ${phone}`);
      expect(accepted).toMatchObject({ estimated_cost: 0, test_mode: true });
      ids[phone] = accepted.message_id;
    }

    await expectOutcomes(t, who, ids, true);
    // Any other number in test mode is delivered, by the sandbox.
    expect(await waitForStatus(t, who, ids['+12025550161'], 'delivered')).toMatchObject({
      provider: 'sandbox',
      test_mode: true,
    });
    const history = (
      await t
        .http()
        .get('/api/sms/history?limit=50')
        .set(t.auth({ tenant, roles: ['admin'] }))
        .expect(200)
    ).body.items as {
      provider: string | null;
      cost: number | null;
      estimated_cost: number | null;
      test_mode: boolean;
    }[];
    expect(history).toHaveLength(NUMBERS.length + 1);
    for (const item of history)
      expect(item).toMatchObject({ cost: null, estimated_cost: 0, test_mode: true });
    expect(history.filter((i) => i.provider !== null).every((i) => i.provider === 'sandbox')).toBe(true);

    expect(reachedTwilio([...NUMBERS, '+12025550161'])).toEqual([]);

    // The test messages took nothing of the cap: a real text still fits (and reaches Twilio), a second does not.
    const real = await send(t, { tenant }, '+12025550162', 'a real one');
    expect(real).toMatchObject({ estimated_cost: 0.0083, test_mode: false });
    await waitForStatus(t, { tenant }, real.message_id, 'sent');
    expect(twilio.sent.filter((m) => m.to === '+12025550162')).toHaveLength(1);
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant }))
      .send({ phone_number: '+12025550163', message: 'over the cap' })
      .expect(402);
    // With the month's spend past the cap, nothing real is accepted any more, but test mode is.
    await t
      .http()
      .patch(`/api/sms/tenants/${tenant}`)
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({ settings: { monthly_spend_cap: 0.005 } })
      .expect(200);
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant }))
      .send({ phone_number: '+12025550163', message: 'past the cap' })
      .expect(402);
    expect(await send(t, who, '+15005550011', `${marker}: past the cap`)).toMatchObject({
      estimated_cost: 0,
      test_mode: true,
    });
  });

  it('gives the outcomes to every message of a test-mode tenant, bulk and callbacks included', async () => {
    // Test numbers pass the destination rules in test mode: this tenant may text Turkey only.
    const tenant = await newTenant({ test_mode: true, allowed_countries: ['TR'], ...NO_CONSENT_NEEDED });
    const who = { tenant, roles: ['admin'] };
    await t
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(t.auth(who))
      .send({ url: `${receiver.url}/test-mode`, events: ['message.undelivered', 'message.failed'] })
      .expect(201);

    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({ phone_numbers: [...NUMBERS, '+905321234567', '+12025550164'], message: `${marker}: bulk` })
      .expect(202);
    expect(res.body).toMatchObject({
      accepted: NUMBERS.length + 1,
      rejected: [{ phone_number: '+12025550164', reason: 'country_not_allowed' }],
      estimated_cost: 0,
      test_mode: true,
    });
    const history = (
      await t
        .http()
        .get(`/api/sms/history?batch_id=${res.body.batch_id}&limit=50`)
        .set(t.auth(who))
        .expect(200)
    ).body.items as { message_id: string; phone_number: string }[];
    const ids = Object.fromEntries(history.map((m) => [m.phone_number, m.message_id]));

    await expectOutcomes(t, who, ids, true);
    await waitForStatus(t, who, ids['+905321234567'], 'delivered');
    expect(reachedTwilio([...NUMBERS, '+905321234567'])).toEqual([]);

    const callbacks = await eventually(
      async () => {
        const got = receiver.on('/test-mode');
        return got.length >= 5 ? got : undefined;
      },
      10_000,
      'the callbacks of the failed and undelivered numbers',
    );
    const byPhone = Object.fromEntries(callbacks.map((c) => [c.json.data.phone_number, c.json]));
    expect(byPhone['+15005550012']).toMatchObject({
      type: 'message.undelivered',
      data: { message_id: ids['+15005550012'], error_code: 'sandbox:30003', test_mode: true },
    });
    expect(byPhone['+15005550004']).toMatchObject({
      type: 'message.failed',
      data: { error_code: 'sandbox:21610', test_mode: true },
    });
  });

  it('never asks Twilio about a test-mode message a dead worker left sending', async () => {
    const who = { tenant: freshTenantId(), testMode: true };
    const { message_id: id } = await send(t, who, '+12025550177', `${marker}: stranded`);
    await waitForStatus(t, who, id, 'delivered');
    // The claim records the provider a real message would likely go to first; the worker's first
    // call (the sandbox) replaces it before the call.
    const [{ attempt_providers }] = await ds.query(
      'SELECT attempt_providers FROM sms_messages WHERE id = $1',
      [id],
    );
    expect(attempt_providers).toEqual(['sandbox']);
    // A worker that died after that call; the row still names the claim's real-provider guess too
    // (as rows written before the first call replaced it did).
    await ds.query(
      `UPDATE sms_messages SET status = 'sending', provider = NULL, provider_message_id = NULL, sent_at = NULL,
              delivered_at = NULL, attempt_providers = '{twilio,sandbox}', updated_at = now() - interval '20 minutes'
        WHERE id = $1`,
      [id],
    );

    await t.get(OutcomeResolver).resolve();

    // Only the sandbox could have it, and it cannot be asked: unknown for good, never resent.
    expect(await statusOf(t, who, id)).toMatchObject({ status: 'unknown', error_code: 'outcome_unknown' });
    expect(reachedTwilio(['+12025550177'])).toEqual([]);
  });
});

describe('the same numbers with the sandbox provider (no test mode)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { ...FAST, SMS_PROVIDERS: 'sandbox' } });
  });
  afterAll(() => t.close());

  it('gives each test number its outcome', async () => {
    const who = { tenant: freshTenantId() };
    const ids: Record<string, string> = {};
    for (const phone of NUMBERS) {
      const accepted = await send(t, who, phone, `sandbox: ${phone}`);
      expect(accepted.test_mode).toBe(false);
      ids[phone] = accepted.message_id;
    }
    await expectOutcomes(t, who, ids, false);
  });
});
