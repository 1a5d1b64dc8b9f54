import twilio from 'twilio';
import { LogCapture } from '../support/test-app';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio } from '../fakes/fake-twilio';
import { FakeSns } from '../fakes/fake-sns';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

const PUBLIC_BASE_URL = 'https://sms.example.test';
const STATUS = '/api/sms/webhooks/twilio/status';
const INBOUND = '/api/sms/webhooks/twilio/inbound';
const SID = `SM${'ab12'.repeat(8)}`;

type Params = Record<string, string | string[]>;
const sign = (path: string, params: Params) =>
  twilio.getExpectedTwilioSignature(FAKE_TWILIO_TOKEN, `${PUBLIC_BASE_URL}${path}`, params);
/** A form body as Twilio posts it; a repeated field appears twice. */
const form = (params: Params) =>
  Object.entries(params)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${encodeURIComponent(x)}`))
    .join('&');

describe('provider webhooks: /api/sms/webhooks/{provider}/{status|inbound}', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  const logs = new LogCapture();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      logs,
      env: {
        TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
        TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
        TWILIO_PHONE_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: await twilioFake.start(),
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret',
        AWS_REGION: 'us-east-1',
        AWS_SNS_ENDPOINT: await snsFake.start(),
        PUBLIC_BASE_URL,
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });

  const post = (path: string, params: Params, signature = sign(path, params)) =>
    t.http().post(path).type('form').set('X-Twilio-Signature', signature).send(form(params));

  it('answers 404 for a provider that does not exist or takes no such webhook', async () => {
    const params = { MessageSid: SID, MessageStatus: 'delivered' };
    await t.http().post('/api/sms/webhooks/nope/status').type('form').send(form(params)).expect(404);
    await t.http().post('/api/sms/webhooks/sns/status').type('form').send(form(params)).expect(404);
    await t.http().post('/api/sms/webhooks/sns/inbound').type('form').send(form(params)).expect(404);
    await t.http().post('/api/sms/webhooks/twilio/other').type('form').send(form(params)).expect(404);
  });

  it('refuses a status callback signed with another key (403)', async () => {
    const params = { MessageSid: SID, MessageStatus: 'delivered' };
    const forged = twilio.getExpectedTwilioSignature('not-the-token', `${PUBLIC_BASE_URL}${STATUS}`, params);
    const res = await post(STATUS, params, forged).expect(403);
    expect(JSON.stringify(res.body)).not.toContain(FAKE_TWILIO_TOKEN);
  });

  it.each<[string, Params, string]>([
    ['a price beyond any SMS', { MessageSid: SID, MessageStatus: 'delivered', Price: '-1e30' }, 'Price'],
    ['a price that is not a number', { MessageSid: SID, MessageStatus: 'delivered', Price: 'abc' }, 'Price'],
    ['a huge price', { MessageSid: SID, MessageStatus: 'delivered', Price: '-100000.5' }, 'Price'],
    ['a NUL in MessageSid', { MessageSid: `${SID}\u0000`, MessageStatus: 'delivered' }, 'MessageSid'],
    [
      'a MessageSid that is not a SID',
      { MessageSid: 'SMnot-a-sid', MessageStatus: 'delivered' },
      'MessageSid',
    ],
    [
      'MessageStatus given twice',
      { MessageSid: SID, MessageStatus: ['delivered', 'failed'] },
      'MessageStatus',
    ],
    ['an unknown MessageStatus', { MessageSid: SID, MessageStatus: 'teleported' }, 'MessageStatus'],
    ['a missing MessageStatus', { MessageSid: SID }, 'MessageStatus'],
    ['a bad ErrorCode', { MessageSid: SID, MessageStatus: 'failed', ErrorCode: '30003; drop' }, 'ErrorCode'],
    ['a bad PriceUnit', { MessageSid: SID, MessageStatus: 'sent', PriceUnit: 'US\u0000D' }, 'PriceUnit'],
  ])('answers 400 naming the field for a signed callback with %s', async (_what, params, field) => {
    const res = await post(STATUS, params).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400 });
    expect(JSON.stringify(res.body)).toContain(field);
  });

  it('changes nothing on a signed but malformed callback for a real message', async () => {
    const who = { tenant: freshTenantId() };
    const sent = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', message: 'track me' })
      .expect(202);
    const before = await waitForStatus(t, who, sent.body.message_id, 'sent');
    await post(STATUS, {
      MessageSid: before.provider_message_id,
      MessageStatus: 'delivered',
      Price: '-1e30',
    }).expect(400);
    const after = await t.http().get(`/api/sms/messages/${sent.body.message_id}/status`).set(t.auth(who));
    expect(after.body).toMatchObject({ status: 'sent', cost: null });
    expect(after.body.events).toHaveLength(before.events.length);
    // The same callback with a sane price applies, at the exact price.
    await post(STATUS, {
      MessageSid: before.provider_message_id,
      MessageStatus: 'delivered',
      Price: '-0.0079',
      PriceUnit: 'usd',
    }).expect(204);
    const delivered = await waitForStatus(t, who, sent.body.message_id, 'delivered');
    expect(delivered.cost).toBe(0.0079);
  });

  it('verifies and parses an inbound message and answers empty TwiML to a text that is no keyword', async () => {
    const params = {
      MessageSid: SID,
      AccountSid: FAKE_TWILIO_SID,
      From: '+12025550123',
      To: '+15005550006',
      Body: 'see you then', // a STOP here would opt this shared test number out for every tenant
      NumMedia: '0',
    };
    const res = await post(INBOUND, params).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    expect(logs.text()).toContain('inbound message received');
    await post(INBOUND, params, 'bogus').expect(403);
    await post(INBOUND, { ...params, From: 'x\u0000' }).expect(400);
    await post(INBOUND, { ...params, Body: ['a', 'b'] }).expect(400);
  });

  it.each([
    ['an object whose toString is not a function', '{"MessageSid":{"toString":1}}'],
    ['a list of such objects', '{"MessageSid":[{"toString":1},{"toString":2}]}'],
    ['numbers and null', '{"MessageSid":1,"MessageStatus":null}'],
  ])('refuses a JSON body with %s as no Twilio request (403), logging no error', async (_what, json) => {
    const from = logs.lines.length;
    for (const path of [STATUS, INBOUND]) {
      const res = await t
        .http()
        .post(path)
        .set('Content-Type', 'application/json')
        .set('X-Twilio-Signature', 'any')
        .send(json);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'invalid Twilio signature' });
    }
    const errors = logs.lines.slice(from).filter((l) => (JSON.parse(l) as { level: number }).level > 40);
    expect(errors).toEqual([]);
  });
});

describe('provider webhooks when the provider is not configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SMS_PROVIDERS: 'sandbox', PUBLIC_BASE_URL } });
  });
  afterAll(() => t.close());

  it('answers 404 for Twilio callbacks, signed or not', async () => {
    const params = { MessageSid: SID, MessageStatus: 'delivered' };
    await t
      .http()
      .post(STATUS)
      .type('form')
      .set('X-Twilio-Signature', sign(STATUS, params))
      .send(form(params))
      .expect(404);
    await t.http().post('/api/sms/webhooks/sandbox/status').type('form').send(form(params)).expect(404);
  });
});
