import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { OutcomeResolver } from '../../src/messaging';
import { RecordedRequest } from '../fakes/fake-http';
import { FakeSns } from '../fakes/fake-sns';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio, twilioError } from '../fakes/fake-twilio';
import { FakeClock } from '../support/fake-clock';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/**
 * A crash loses nothing that could still be sent: the worker records on the row which providers an
 * attempt was handed to (the claim the first, each fallback before its call), so the outcome
 * resolver asks only those. With Twilio first and SNS configured as its fallback, a message a dead
 * worker never got to Twilio is sent again; only one that may have reached SNS (which cannot be
 * asked) ends `unknown`.
 */
describe('the providers an attempt was handed to (fake Twilio first, fake SNS as fallback)', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  const clock = new FakeClock();
  let t: TestApp;
  let ds: DataSource;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
        TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
        TWILIO_PHONE_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: await twilioFake.start(),
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret',
        AWS_REGION: 'us-east-1',
        AWS_SNS_ENDPOINT: await snsFake.start(),
        // Both configured, in this order: the production shape of issue 19.
        SMS_PROVIDERS: 'twilio,sns',
        PUBLIC_BASE_URL: 'https://sms.example.test',
        SMS_PROVIDER_TIMEOUT_MS: '2000',
        SMS_RETRY_BASE_MS: '50',
      },
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
    ds = t.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });
  beforeEach(() => {
    twilioFake.reset();
    snsFake.reset();
    twilioFake.now = () => clock.now();
  });

  const send = async (message: string) => {
    const who = { tenant: freshTenantId() };
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', message })
      .expect(202);
    return { who, id: res.body.message_id as string };
  };

  const recorded = async (id: string): Promise<string[] | null> =>
    (
      (await ds.query('SELECT attempt_providers FROM sms_messages WHERE id = $1', [id])) as {
        attempt_providers: string[] | null;
      }[]
    )[0].attempt_providers;

  /**
   * What the row said when the provider got the call for this text (read by the fake before it
   * answers). Calls for other texts are not this test's: the run's other suites leave jobs under
   * the same Redis prefix, and this app's worker may send them through these fakes.
   */
  const probe =
    (
      seen: { providers: string[] | null; status: string }[],
      body: (r: RecordedRequest) => string,
      text: string,
    ) =>
    async (req: RecordedRequest): Promise<void> => {
      if (req.method !== 'POST' || body(req) !== text) return;
      try {
        const rows: { attempt_providers: string[] | null; status: string }[] = await ds.query(
          'SELECT attempt_providers, status FROM sms_messages WHERE body = $1',
          [body(req)],
        );
        seen.push(...rows.map((r) => ({ providers: r.attempt_providers, status: r.status })));
      } catch {
        seen.push({ providers: null, status: 'probe failed' });
      }
    };

  /** A worker that died mid-attempt: the row back in 'sending' as the claim left it. */
  const strandInSending = async (id: string, providers?: string[] | null) => {
    await ds.query(
      `UPDATE sms_messages SET status = 'sending', provider = NULL, provider_message_id = NULL, cost = NULL,
              sent_at = NULL, updated_at = now() - interval '20 minutes',
              attempt_providers = CASE WHEN $2 THEN $3::varchar[] ELSE attempt_providers END
        WHERE id = $1`,
      [id, providers !== undefined, providers ?? null],
    );
  };

  it('records the first provider with the claim, before that provider is called', async () => {
    const seen: { providers: string[] | null; status: string }[] = [];
    twilioFake.onRequest = probe(seen, (r) => r.form.Body, 'recorded by the claim');
    const { who, id } = await send('recorded by the claim');
    await waitForStatus(t, who, id, 'sent');
    expect(seen).toEqual([{ providers: ['twilio'], status: 'sending' }]);
    expect(await recorded(id)).toEqual(['twilio']);
    expect(snsFake.requests.filter((r) => r.form.Message === 'recorded by the claim')).toHaveLength(0);
  });

  it('records SNS before a fallback to it calls SNS', async () => {
    const seen: { providers: string[] | null; status: string }[] = [];
    snsFake.onRequest = probe(seen, (r) => r.form.Message, 'falls back to sns');
    twilioFake.next(twilioError(503, 20503, 'Service Unavailable'));
    const { who, id } = await send('falls back to sns');
    const sent = await waitForStatus(t, who, id, 'sent');
    expect(sent.provider).toBe('sns');
    expect(seen).toEqual([{ providers: ['twilio', 'sns'], status: 'sending' }]);
    expect(await recorded(id)).toEqual(['twilio', 'sns']);
  });

  it('does not call SNS when recording it fails, and sends the message on a later attempt', async () => {
    const body = `fallback not recorded ${Date.now()}`;
    // PostgreSQL refuses to add sns to this message's attempt (the claim's own write passes).
    await ds.query(`CREATE OR REPLACE FUNCTION test_refuse_record() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await ds.query(`CREATE TRIGGER test_refuse_record BEFORE UPDATE ON sms_messages FOR EACH ROW
      WHEN (NEW.body = '${body}' AND 'sns' = ANY(NEW.attempt_providers))
      EXECUTE FUNCTION test_refuse_record()`);
    try {
      twilioFake.next(twilioError(503, 20503, 'Service Unavailable'));
      const { who, id } = await send(body);
      const sent = await waitForStatus(t, who, id, 'sent');
      expect(snsFake.requests.filter((r) => r.form.Message === body)).toHaveLength(0); // never called: nothing recorded it
      expect(sent.provider).toBe('twilio'); // the retry, once Twilio answered again
      expect(twilioFake.sent.filter((m) => m.body === body)).toHaveLength(1);
      expect(sent.attempts).toBe(2);
      expect(sent.events.map((e: { status: string }) => e.status)).toEqual([
        'queued',
        'sending',
        'queued',
        'sending',
        'sent',
      ]);
      const retry: { error_code: string; tried: { provider: string; code: string }[] }[] = await ds.query(
        `SELECT payload->>'error_code' AS error_code, payload->'tried' AS tried FROM sms_message_events
          WHERE message_id = $1 AND status = 'queued' AND source = 'worker'`,
        [id],
      );
      expect(retry).toEqual([
        {
          error_code: 'sns:not_called',
          tried: [
            expect.objectContaining({ provider: 'twilio', code: 'twilio:http_503' }),
            { provider: 'sns', code: 'sns:not_called' },
          ],
        },
      ]);
    } finally {
      await ds.query('DROP TRIGGER test_refuse_record ON sms_messages');
      await ds.query('DROP FUNCTION test_refuse_record()');
    }
  });

  it.each([
    ['Twilio, which does not have it', ['twilio']],
    ['no provider (every circuit was open)', []],
  ])(
    'a row left in sending whose attempt went to %s is queued again after the grace period and sent exactly once',
    async (_what, providers) => {
      const body = `stranded before ${providers.join('+') || 'any call'}`;
      const { who, id } = await send(body);
      await waitForStatus(t, who, id, 'sent');
      expect(await recorded(id)).toEqual(['twilio']); // as the claim wrote it
      twilioFake.reset(); // the call never reached Twilio
      twilioFake.now = () => clock.now();
      await strandInSending(id, providers);

      const resolver = t.get(OutcomeResolver);
      // Within the grace period an empty list proves nothing yet: shown unknown while asked again.
      await resolver.resolve();
      const waiting = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
      expect(waiting.body).toMatchObject({ status: 'unknown', error_code: 'worker_lost' });

      clock.advance(5 * 60_000);
      expect((await resolver.resolve()).retried).toBeGreaterThanOrEqual(1);
      const sent = await waitForStatus(t, who, id, 'sent');
      expect(sent.provider).toBe('twilio');
      expect(twilioFake.sent.filter((m) => m.body === body)).toHaveLength(1);
      expect(snsFake.published.filter((m) => m.message === body)).toHaveLength(0);
      // The resolver's events carry PostgreSQL's time and the worker's the moved clock: by source.
      const byResolver = sent.events.filter((e: { source: string }) => e.source === 'resolver');
      expect(byResolver.map((e: { status: string }) => e.status)).toEqual(['unknown', 'queued']);
      expect(sent.events.filter((e: { status: string }) => e.status === 'sending')).toHaveLength(2);
    },
  );

  it('a row whose attempt went to SNS too ends unknown, never resent', async () => {
    const body = 'may have reached sns';
    const { who, id } = await send(body);
    await waitForStatus(t, who, id, 'sent');
    twilioFake.reset();
    twilioFake.now = () => clock.now();
    await strandInSending(id, ['twilio', 'sns']);

    clock.advance(5 * 60_000);
    expect((await t.get(OutcomeResolver).resolve()).unknown).toBeGreaterThanOrEqual(1);
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body).toMatchObject({ status: 'unknown', error_code: 'outcome_unknown' });
    expect(status.body.error_message).toContain('sns cannot be asked');
    expect(twilioFake.sent.filter((m) => m.body === body)).toHaveLength(0); // never resent
    expect(snsFake.requests.filter((r) => r.form.Message === body)).toHaveLength(0);
  });

  it('a row without a record (claimed before the column existed) is asked about every configured provider', async () => {
    const body = 'claimed by an older worker';
    const { who, id } = await send(body);
    await waitForStatus(t, who, id, 'sent');
    twilioFake.reset();
    twilioFake.now = () => clock.now();
    await strandInSending(id, null);

    clock.advance(5 * 60_000);
    await t.get(OutcomeResolver).resolve();
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body).toMatchObject({ status: 'unknown', error_code: 'outcome_unknown' });
    expect(status.body.error_message).toContain('sns cannot be asked');
    // Twilio asked too (other suites' leftover rows may make the resolver ask about theirs as well).
    expect(twilioFake.requests.filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(1);
    expect(twilioFake.sent.filter((m) => m.body === body)).toHaveLength(0);
  });

  it('a worker still on the old code (the two-argument claim) records nothing, so no stale list is trusted', async () => {
    const { who, id } = await send('claimed by the old function');
    await waitForStatus(t, who, id, 'sent');
    expect(await recorded(id)).toEqual(['twilio']);
    // As if it had gone back to the queue and a worker of the previous release took it.
    await ds.query(`UPDATE sms_messages SET status = 'queued', updated_at = now() WHERE id = $1`, [id]);
    const claimed: { id: string }[] = await ds.query(
      'SELECT id FROM sms_claim_messages($1::uuid[], $2::timestamptz)',
      [[id], new Date()],
    );
    expect(claimed.map((r) => r.id)).toEqual([id]);
    expect(await recorded(id)).toBeNull();
  });
});
