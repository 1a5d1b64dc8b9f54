import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { OutcomeResolver } from '../../src/messaging';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio } from '../fakes/fake-twilio';
import { FakeSns } from '../fakes/fake-sns';
import { FakeClock } from '../support/fake-clock';
import { waitForStatus } from '../support/messages';
import { freshPhone } from '../support/ids';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

function providerEnv(twilioUrl: string, snsUrl: string, extra: Record<string, string> = {}) {
  return {
    TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
    TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
    TWILIO_PHONE_NUMBER: '+15005550006',
    TWILIO_API_BASE_URL: twilioUrl,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret',
    AWS_REGION: 'us-east-1',
    AWS_SNS_ENDPOINT: snsUrl,
    PUBLIC_BASE_URL: 'https://sms.example.test',
    SMS_PROVIDER_TIMEOUT_MS: '2000',
    SMS_RETRY_BASE_MS: '50',
    ...extra,
  };
}

/** A worker that died mid-attempt: the row is back in 'sending' without the provider's answer. */
async function strandInSending(ds: DataSource, id: string): Promise<void> {
  await ds.query(
    `UPDATE sms_messages SET status = 'sending', provider = NULL, provider_message_id = NULL, cost = NULL,
            sent_at = NULL, updated_at = now() - interval '20 minutes'
      WHERE id = $1`,
    [id],
  );
}

// Twilio only. With SNS configured as a fallback, the providers recorded for the attempt decide
// which are asked: test/messaging/attempt-providers.e2e-spec.ts.
describe('unknown outcomes are resolved by asking Twilio (fake Twilio)', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  const clock = new FakeClock();
  let t: TestApp;
  let ds: DataSource;

  beforeAll(async () => {
    t = await createTestApp({
      env: providerEnv(await twilioFake.start(), await snsFake.start(), { SMS_PROVIDERS: 'twilio' }),
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
    ds = t.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });
  /**
   * Every message the fake created in this suite, kept across its resets: a second send of a
   * test's message that came after its test ended (a double) would show only here.
   */
  const created: { to: string; sid: string }[] = [];
  /** Each test's number, and how many times its test meant it to be sent. */
  const meant = new Map<string, number>();
  const forget = () => {
    created.push(...twilioFake.sent.map(({ to, sid }) => ({ to, sid })));
    twilioFake.reset();
  };
  beforeEach(() => {
    forget();
    snsFake.reset();
    // Twilio dates its messages on the same (moved) clock as the service's attempt events.
    twilioFake.now = () => clock.now();
  });

  // Each test texts a number of its own, and reads back only what the fake holds for it: the
  // worker's scheduled jobs (a reminders tick at :00 or :30, the sweep) may meanwhile send other
  // suites' leftover messages through this app's fake, which once made `sent[0]` another text.
  const send = async (message: string, times = 1) => {
    const who = { tenant: freshTenantId() };
    const to = freshPhone();
    meant.set(to, times);
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: to, message })
      .expect(202);
    return { who, id: res.body.message_id as string, to };
  };
  /** What the fake holds for one number, in the order it was created. */
  const sentTo = (to: string) => twilioFake.sent.filter((m) => m.to === to);

  it('a row stuck in sending whose message Twilio holds becomes sent with that SID, without a resend', async () => {
    const { who, id, to } = await send('stuck but sent');
    await waitForStatus(t, who, id, 'sent');
    const [{ sid }] = sentTo(to);
    twilioFake.setStatus(sid, 'sent', '-0.00790');
    await strandInSending(ds, id);

    const summary = await t.get(OutcomeResolver).resolve();
    expect(summary.sent).toBeGreaterThanOrEqual(1);
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body).toMatchObject({
      status: 'sent',
      provider: 'twilio',
      provider_message_id: sid,
      cost: 0.0079,
      currency: 'USD',
      error_code: null,
    });
    expect(status.body.events.at(-1)).toMatchObject({ status: 'sent', source: 'resolver' });
    expect(sentTo(to)).toHaveLength(1); // asked, never sent again
    const list = twilioFake.requests.filter((r) => r.method === 'GET');
    expect(list[0].path).toContain(`To=${encodeURIComponent(to)}`);
  });

  it('a row stuck in sending that Twilio never created goes back to queued after the grace period and is sent exactly once', async () => {
    const { who, id, to } = await send('stuck and never sent', 2);
    await waitForStatus(t, who, id, 'sent');
    forget(); // Twilio forgets it: the attempt never reached Twilio
    await strandInSending(ds, id);

    // Within the grace period after the attempt, an empty list proves nothing yet.
    expect((await t.get(OutcomeResolver).resolve()).pending).toBeGreaterThanOrEqual(1);
    const waiting = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(waiting.body).toMatchObject({ status: 'unknown', error_code: 'worker_lost' });
    expect(sentTo(to)).toHaveLength(0);

    clock.advance(5 * 60_000);
    expect((await t.get(OutcomeResolver).resolve()).retried).toBeGreaterThanOrEqual(1);
    const sent = await waitForStatus(t, who, id, 'sent');
    const resent = sentTo(to);
    expect(resent).toHaveLength(1); // sent exactly once
    expect(sent.provider_message_id).toBe(resent[0].sid);
    const statuses = sent.events.map((e: { status: string }) => e.status);
    expect(statuses.slice(-4)).toEqual(['unknown', 'queued', 'sending', 'sent']);
    expect(statuses).not.toContain('failed');
  });

  it('shows the row as unknown while Twilio cannot be reached, and settles it when Twilio answers', async () => {
    const { who, id, to } = await send('ask me later');
    await waitForStatus(t, who, id, 'sent');
    const [{ sid }] = sentTo(to);
    await strandInSending(ds, id);
    twilioFake.next({ status: 503, contentType: 'application/json', body: '{"code":20503,"status":503}' });
    expect((await t.get(OutcomeResolver).resolve()).pending).toBeGreaterThanOrEqual(1);
    expect(
      (await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200)).body.status,
    ).toBe('unknown');
    clock.advance(60_000);
    await t.get(OutcomeResolver).resolve();
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body).toMatchObject({ status: 'sent', provider_message_id: sid });
  });

  it('does not resend when Twilio holds a message to that number from that time with another text', async () => {
    const { who, id, to } = await send('café at 10');
    await waitForStatus(t, who, id, 'sent');
    // As if Smart Encoding had rewritten the text Twilio keeps: no row holds this SID.
    sentTo(to)[0].body = 'cafe at 10';
    await strandInSending(ds, id);
    clock.advance(5 * 60_000);
    await t.get(OutcomeResolver).resolve();
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body).toMatchObject({ status: 'unknown', error_code: 'outcome_unknown' });
    expect(status.body.error_message).toContain('different text');
    expect(sentTo(to)).toHaveLength(1); // never resent on a guess
  });

  it("sent each test's message as often as its test meant, counting what came after the test ended", async () => {
    await new Promise((r) => setTimeout(r, 1_000)); // a late second send of the last test's message
    forget();
    expect(meant.size).toBeGreaterThan(0);
    for (const [to, times] of meant)
      expect({ to, sends: created.filter((m) => m.to === to).length }).toEqual({ to, sends: times });
  });
});

describe('unknown outcomes with only SNS configured', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: providerEnv(await twilioFake.start(), await snsFake.start(), { SMS_PROVIDERS: 'sns' }),
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });

  it('ends a stuck row as unknown with the reason, visible in history, and never resends it', async () => {
    const who = { tenant: freshTenantId() };
    const to = freshPhone();
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: to, message: 'sns cannot tell' })
      .expect(202);
    const id = res.body.message_id as string;
    await waitForStatus(t, who, id, 'sent');
    await strandInSending(t.get(DataSource), id);

    expect((await t.get(OutcomeResolver).resolve()).unknown).toBeGreaterThanOrEqual(1);
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body).toMatchObject({ status: 'unknown', error_code: 'outcome_unknown' });
    expect(status.body.error_message).toContain('sns cannot be asked');
    const history = await t.http().get('/api/sms/history?status=unknown').set(t.auth(who)).expect(200);
    expect(history.body.items.map((m: { message_id: string }) => m.message_id)).toEqual([id]);

    // Settled for good: later runs leave it alone, and nothing is published again.
    await t.get(OutcomeResolver).resolve();
    const again = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(again.body.events).toHaveLength(status.body.events.length);
    expect(snsFake.published.filter((p) => p.phoneNumber === to)).toHaveLength(1);
    expect(twilioFake.requests).toHaveLength(0);
  });
});
