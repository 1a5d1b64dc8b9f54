import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { StatusJob } from '../../src/jobs/status.job';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio, twilioError } from '../fakes/fake-twilio';
import { FakeSns, snsError } from '../fakes/fake-sns';
import { cancelLeftoverMessages, waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

const PUBLIC_BASE_URL = 'https://sms.example.test';

function providerEnv(
  twilioUrl: string,
  snsUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
    TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
    TWILIO_PHONE_NUMBER: '+15005550006',
    TWILIO_API_BASE_URL: twilioUrl,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret',
    AWS_REGION: 'us-east-1',
    AWS_SNS_ENDPOINT: snsUrl,
    PUBLIC_BASE_URL,
    SMS_PROVIDER_TIMEOUT_MS: '400',
    SMS_RETRY_BASE_MS: '50',
    SMS_MAX_ATTEMPTS: '3',
    SMS_CIRCUIT_FAILURE_THRESHOLD: '100',
    ...extra,
  };
}

const internalError = {
  status: 500,
  contentType: 'application/json',
  body: '{"code":20500,"message":"Internal Server Error","status":500}',
};

describe('Twilio with automatic fallback to SNS (real SDKs, fake servers)', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  let t: TestApp;

  beforeAll(async () => {
    await cancelLeftoverMessages(); // the suite counts every call the fakes receive
    t = await createTestApp({ env: providerEnv(await twilioFake.start(), await snsFake.start()) });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });
  beforeEach(() => {
    twilioFake.reset();
    snsFake.reset();
  });

  const send = async (body: object) => {
    const who = { tenant: freshTenantId() };
    const res = await t.http().post('/api/sms/send').set(t.auth(who)).send(body).expect(202);
    return { who, id: res.body.message_id as string, res };
  };

  it('sends through Twilio and records the message sid', async () => {
    const { who, id, res } = await send({
      phone_number: '+12025550123',
      message: 'Your appointment is tomorrow at 2 PM',
    });
    expect(res.body.estimated_cost).toBe(0.0083);
    const status = await waitForStatus(t, who, id, 'sent');
    expect(twilioFake.sent).toHaveLength(1);
    expect(twilioFake.sent[0]).toMatchObject({
      to: '+12025550123',
      from: '+15005550006',
      body: 'Your appointment is tomorrow at 2 PM',
      statusCallback: `${PUBLIC_BASE_URL}/api/sms/webhooks/twilio/status`,
    });
    expect(status).toMatchObject({
      provider: 'twilio',
      provider_message_id: twilioFake.sent[0].sid,
      attempts: 1,
    });
    expect(snsFake.requests).toHaveLength(0);
  });

  it('falls back to SNS when Twilio answers 500', async () => {
    twilioFake.next(internalError);
    const { who, id } = await send({
      phone_number: '+12025550123',
      message: 'fallback',
      message_type: 'appointment_reminder',
    });
    const status = await waitForStatus(t, who, id, 'sent');
    expect(status).toMatchObject({
      provider: 'sns',
      provider_message_id: snsFake.published[0].messageId,
      attempts: 1,
    });
    expect(snsFake.published[0]).toMatchObject({
      phoneNumber: '+12025550123',
      message: 'fallback',
      smsType: 'Transactional',
    });
    expect(twilioFake.requests).toHaveLength(1);
  });

  it('sends general notifications over SNS as Promotional', async () => {
    twilioFake.next(twilioError(503, 20503, 'Service Unavailable'));
    const { who, id } = await send({
      phone_number: '+12025550123',
      message: 'news',
      message_type: 'general_notification',
    });
    await waitForStatus(t, who, id, 'sent');
    expect(snsFake.published[0].smsType).toBe('Promotional');
  });

  it('fails at once on a permanent Twilio error and never calls SNS', async () => {
    twilioFake.next(twilioError(400, 21610, 'Attempt to send to unsubscribed recipient'));
    const { who, id } = await send({ phone_number: '+12025550123', message: 'opted out' });
    const status = await waitForStatus(t, who, id, 'failed');
    expect(status).toMatchObject({
      attempts: 1,
      error_code: 'twilio:21610',
      error_message: 'Attempt to send to unsubscribed recipient',
    });
    expect(snsFake.requests).toHaveLength(0);
  });

  it('retries with backoff when both providers are down, then fails keeping the last error', async () => {
    twilioFake.answerAlways(internalError);
    snsFake.answerAlways(snsError(500, 'InternalError', 'internal', 'Receiver'));
    const { who, id } = await send({ phone_number: '+12025550123', message: 'nobody home' });
    const status = await waitForStatus(t, who, id, 'failed', 15_000);
    expect(status.attempts).toBe(3);
    expect(status.error_code).toBe('sns:InternalError');
    expect(twilioFake.requests).toHaveLength(3);
    expect(snsFake.requests).toHaveLength(3);
    const statuses = status.events.map((e: { status: string }) => e.status);
    expect(statuses).toEqual(['queued', 'sending', 'queued', 'sending', 'queued', 'sending', 'failed']);
  });

  it('succeeds on a retry when a provider comes back', async () => {
    twilioFake.next(internalError);
    snsFake.next(snsError(500, 'InternalError', 'internal', 'Receiver'));
    const { who, id } = await send({ phone_number: '+12025550123', message: 'second time lucky' });
    const status = await waitForStatus(t, who, id, 'sent', 15_000);
    expect(status).toMatchObject({ attempts: 2, provider: 'twilio', error_code: null });
  });

  it('treats a Twilio timeout as an unknown outcome: no fallback, no retry', async () => {
    twilioFake.next('hang');
    const { who, id } = await send({ phone_number: '+12025550123', message: 'slow' });
    const status = await waitForStatus(t, who, id, 'unknown');
    expect(status).toMatchObject({ attempts: 1, error_code: 'twilio:timeout' });
    expect(status.error_message).toContain('not resent automatically');
    expect(snsFake.requests).toHaveLength(0);
  });

  it('applies a signed Twilio status callback and refuses an unsigned one', async () => {
    const { who, id } = await send({ phone_number: '+12025550123', message: 'track me' });
    const sent = await waitForStatus(t, who, id, 'sent');
    const params = {
      MessageSid: sent.provider_message_id,
      MessageStatus: 'delivered',
      Price: '-0.00790',
      PriceUnit: 'USD',
    };
    const url = `${PUBLIC_BASE_URL}/api/sms/webhooks/twilio/status`;
    await t
      .http()
      .post('/api/sms/webhooks/twilio/status')
      .type('form')
      .set('X-Twilio-Signature', 'bogus')
      .send(params)
      .expect(403);
    const signature = twilio.getExpectedTwilioSignature(FAKE_TWILIO_TOKEN, url, params);
    await t
      .http()
      .post('/api/sms/webhooks/twilio/status')
      .type('form')
      .set('X-Twilio-Signature', signature)
      .send(params)
      .expect(204);
    const delivered = await waitForStatus(t, who, id, 'delivered');
    expect(delivered.cost).toBe(0.0079);
    // A late 'sent' after 'delivered' is recorded but changes nothing.
    const late = { MessageSid: sent.provider_message_id, MessageStatus: 'sent' };
    await t
      .http()
      .post('/api/sms/webhooks/twilio/status')
      .type('form')
      .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(FAKE_TWILIO_TOKEN, url, late))
      .send(late)
      .expect(204);
    const after = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(after.body.status).toBe('delivered');
    expect(after.body.events.map((e: { status: string }) => e.status)).toEqual([
      'queued',
      'sending',
      'sent',
      'delivered',
      'sent',
    ]);
  });
});

describe('the hourly status job asks Twilio about messages without a receipt', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: providerEnv(await twilioFake.start(), await snsFake.start()) });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });

  it('moves a sent message to delivered with its real cost, and leaves a fresh one alone', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', message: 'no callback' })
      .expect(202);
    const id = res.body.message_id as string;
    const sent = await waitForStatus(t, who, id, 'sent');
    const ds = t.get(DataSource);
    const job = t.get(StatusJob);
    twilioFake.setStatus(sent.provider_message_id, 'delivered', '-0.00790');
    expect((await job.run()).updated).toBe(0); // sent a moment ago: not asked yet
    await ds.query(`UPDATE sms_messages SET sent_at = now() - interval '20 minutes' WHERE id = $1`, [id]);
    expect((await job.run()).updated).toBeGreaterThanOrEqual(1);
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body).toMatchObject({ status: 'delivered', cost: 0.0079 });
    expect(status.body.events.at(-1)).toMatchObject({ status: 'delivered', source: 'status_job' });
  });
});

describe('the circuit breaker', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: providerEnv(await twilioFake.start(), await snsFake.start(), {
        SMS_CIRCUIT_FAILURE_THRESHOLD: '2',
        SMS_CIRCUIT_COOLDOWN_MS: '3600000',
      }),
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });

  it('opens after consecutive Twilio failures and skips Twilio while open', async () => {
    twilioFake.answerAlways(internalError);
    const who = { tenant: freshTenantId() };
    for (let i = 0; i < 3; i++) {
      const res = await t
        .http()
        .post('/api/sms/send')
        .set(t.auth(who))
        .send({ phone_number: '+12025550123', message: `m${i}` })
        .expect(202);
      const status = await waitForStatus(t, who, res.body.message_id, 'sent');
      expect(status.provider).toBe('sns');
      // Priced for the provider expected to carry it: SNS's US price once Twilio's circuit is open.
      if (i === 2) expect(res.body.estimated_cost).toBe(0.00645);
    }
    expect(twilioFake.requests).toHaveLength(2); // the third send skipped Twilio
    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.details.providers.circuits.twilio).toMatchObject({
      state: 'open',
      consecutiveFailures: 2,
    });
    expect(ready.body.details.providers.circuits.sns).toMatchObject({ state: 'closed' });
  });
});
