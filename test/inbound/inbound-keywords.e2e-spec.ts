import { randomBytes, randomInt } from 'node:crypto';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio } from '../fakes/fake-twilio';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

const PUBLIC_BASE_URL = 'https://sms.example.test';
const INBOUND = '/api/sms/webhooks/twilio/inbound';
const OUR_NUMBER = '+15005550006';

type Params = Record<string, string>;
const sign = (params: Params, token = FAKE_TWILIO_TOKEN) =>
  twilio.getExpectedTwilioSignature(token, `${PUBLIC_BASE_URL}${INBOUND}`, params);
const form = (params: Params) =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
const sid = () => `SM${randomBytes(16).toString('hex')}`;
/** A phone no other test texts: a STOP on our shared number reaches every tenant's list. */
const freshPhone = () => `+1312555${String(randomInt(0, 10_000)).padStart(4, '0')}`;

describe('inbound SMS: /api/sms/webhooks/twilio/inbound, keywords, /api/sms/inbound', () => {
  const twilioFake = new FakeTwilio();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
        TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
        TWILIO_PHONE_NUMBER: OUR_NUMBER,
        TWILIO_API_BASE_URL: await twilioFake.start(),
        SMS_PROVIDERS: 'twilio',
        PUBLIC_BASE_URL,
        WEBHOOK_ALLOW_INSECURE: 'true',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
  });

  const text = (from: string, body: string, extra: Params = {}, signature?: string) => {
    const params = {
      MessageSid: sid(),
      AccountSid: FAKE_TWILIO_SID,
      From: from,
      To: OUR_NUMBER,
      Body: body,
      ...extra,
    };
    return t
      .http()
      .post(INBOUND)
      .type('form')
      .set('X-Twilio-Signature', signature ?? sign(params))
      .send(form(params));
  };
  const send = (who: { tenant: number }, phone: string) =>
    t.http().post('/api/sms/send').set(t.auth(who)).send({ phone_number: phone, message: 'hello' });
  const admin = (tenant: number) => t.auth({ tenant, roles: ['admin'] });
  const inbound = (tenant: number, query: Record<string, string> = {}) =>
    t.http().get('/api/sms/inbound').query(query).set(admin(tenant)).expect(200);

  /** A tenant that has texted `phone` (so replies from it are the tenant's). */
  async function tenantTexting(phone: string, settings?: Record<string, unknown>): Promise<number> {
    const tenant = freshTenantId();
    if (settings) {
      await t
        .http()
        .post('/api/sms/tenants')
        .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
        .send({ id: tenant, name: `tenant ${tenant}`, settings })
        .expect(201);
    }
    await send({ tenant }, phone).expect(202);
    return tenant;
  }

  it('refuses a forged inbound webhook (403) and stores nothing', async () => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone);
    const params = { MessageSid: sid(), From: phone, To: OUR_NUMBER, Body: 'STOP' };
    const forged = twilio.getExpectedTwilioSignature('not-the-token', `${PUBLIC_BASE_URL}${INBOUND}`, params);
    await text(phone, 'STOP', {}, forged).expect(403);
    await text(phone, 'STOP', {}, 'bogus').expect(403);
    expect((await inbound(tenant)).body.items).toEqual([]);
    await send({ tenant }, phone).expect(202);
  });

  it('stores a signed text for the tenant that last texted the sender, and lists it with filters', async () => {
    const phone = freshPhone();
    const other = await tenantTexting(phone);
    const tenant = await tenantTexting(phone); // the latest one owns the reply
    const res = await text(phone, 'Thanks, see you <tomorrow> & after').expect(200);
    expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    const page = (await inbound(tenant)).body;
    expect(page.items).toEqual([
      {
        id: expect.any(String),
        from: phone,
        to: OUR_NUMBER,
        body: 'Thanks, see you <tomorrow> & after',
        provider: 'twilio',
        provider_message_id: expect.stringMatching(/^SM/),
        keyword: null,
        language: null,
        received_at: expect.any(String),
      },
    ]);
    expect((await inbound(other)).body.items).toEqual([]);
    expect((await inbound(tenant, { keyword: 'stop' })).body.items).toEqual([]);
    const filtered = await t
      .http()
      .get('/api/sms/inbound')
      .query({ keyword: 'none', from: phone })
      .set(admin(tenant));
    expect(filtered.body.items).toHaveLength(1);
    expect((await inbound(tenant, { since: '2099-01-01T00:00:00+03:00' })).body.items).toEqual([]);
    await t.http().get('/api/sms/inbound').query({ since: 'yesterday' }).set(admin(tenant)).expect(400);
    await t.http().get('/api/sms/inbound').query({ cursor: 'nope' }).set(admin(tenant)).expect(400);
    await t.http().get('/api/sms/inbound').set(t.auth({ tenant })).expect(403);
  });

  it('pages with a cursor, newest first', async () => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone);
    for (const body of ['one', 'two', 'three']) await text(phone, body).expect(200);
    const first = (await inbound(tenant, { limit: '2' })).body;
    expect(first.items.map((i: { body: string }) => i.body)).toEqual(['three', 'two']);
    const second = (await inbound(tenant, { limit: '2', cursor: first.next_cursor })).body;
    expect(second.items.map((i: { body: string }) => i.body)).toEqual(['one']);
    expect(second.next_cursor).toBeNull();
  });

  it('stores a text from a phone no tenant has texted without a tenant, and still answers a keyword', async () => {
    const res = await text(freshPhone(), 'HELP').expect(200);
    expect(res.text).toContain('<Message>Reply STOP to unsubscribe. Msg&amp;data rates may apply.</Message>');
  });

  it.each([
    // One word per language here, over the webhook; every word: test/medium/inbound.
    ['STOP', 'en'],
    ['iptal', 'tr'],
  ])(
    'opts the sender out on %j, replies in %s, refuses the next send; START lets it through',
    async (word, lang) => {
      const phone = freshPhone();
      const tenant = await tenantTexting(phone);
      const other = await tenantTexting(phone);
      const res = await text(phone, word).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/xml/);
      expect(res.text).toContain(lang === 'en' ? 'You are unsubscribed' : 'Aboneliğiniz iptal edildi');
      // Every tenant that sends from the shared number stops texting the phone.
      for (const who of [tenant, other]) {
        const refused = await send({ tenant: who }, phone).expect(400);
        expect(refused.body.message).toContain('opted out');
      }
      const list = await t.http().get('/api/sms/opt-outs').set(admin(tenant)).expect(200);
      expect(list.body).toEqual([
        expect.objectContaining({
          phone_number: phone,
          source: 'inbound_keyword',
          reason: expect.any(String),
        }),
      ]);
      expect((await inbound(other, { keyword: 'stop' })).body.items).toEqual([
        expect.objectContaining({ keyword: 'stop', language: lang }),
      ]);
      await text(phone, lang === 'en' ? 'start' : 'başla').expect(200);
      await send({ tenant }, phone).expect(202);
      await send({ tenant: other }, phone).expect(202);
    },
  );

  it.each([
    ['START', 'en', 'You are subscribed again'],
    ['başla', 'tr', 'Aboneliğiniz yeniden başladı'],
  ])('takes the sender off the list on %j (%s)', async (word, _lang, reply) => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone);
    await text(phone, 'STOP').expect(200);
    await send({ tenant }, phone).expect(400);
    const res = await text(phone, word).expect(200);
    expect(res.text).toContain(reply);
    await send({ tenant }, phone).expect(202);
  });

  it.each([
    ['HELP', 'Reply STOP to unsubscribe. Msg&amp;data rates may apply.'],
    ['yardım', 'Aboneliği iptal etmek için IPTAL yazın. Operatör ücretleri uygulanabilir.'],
  ])('answers %j with the help text in its language and changes nothing', async (word, reply) => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone);
    const res = await text(phone, word).expect(200);
    expect(res.text).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${reply}</Message></Response>`,
    );
    await send({ tenant }, phone).expect(202);
  });

  it("refuses a tenant's own keyword that is a built-in word of another action (400)", async () => {
    // The tenant's own words in use (replies, opt-outs): test/medium/inbound.
    const tenant = await tenantTexting(freshPhone(), {
      default_language: 'tr',
      inbound_keywords: { stop: ['durdur'], help: ['destek'] },
    });
    await t
      .http()
      .patch(`/api/sms/tenants/${tenant}`)
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({ settings: { inbound_keywords: { start: ['stop'] } } })
      .expect(400);
  });

  it("honours Twilio's OptOutType and leaves the reply to Twilio", async () => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone);
    const res = await text(phone, 'Please stop now', { OptOutType: 'STOP' }).expect(200);
    expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    await send({ tenant }, phone).expect(400);
    await text(phone, 'go on', { OptOutType: 'START' }).expect(200);
    await send({ tenant }, phone).expect(202);
  });

  it('tells the platform: message.inbound, recipient.opted_out, recipient.opted_in, each once, for the tenant', async () => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone);
    await t
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(admin(tenant))
      .send({ url: 'http://127.0.0.1:9/hooks' })
      .expect(201);
    const params = {
      MessageSid: sid(),
      AccountSid: FAKE_TWILIO_SID,
      From: phone,
      To: OUR_NUMBER,
      Body: 'STOP',
    };
    for (let i = 0; i < 2; i++) {
      // The second is Twilio redelivering the same webhook: nothing new is published.
      await t
        .http()
        .post(INBOUND)
        .type('form')
        .set('X-Twilio-Signature', sign(params))
        .send(form(params))
        .expect(200);
    }
    await text(phone, 'START').expect(200);
    const events: { event_type: string; payload: { data: Record<string, unknown> } }[] = await t
      .get(DataSource)
      .query(
        `SELECT event_type, payload FROM sms_webhook_deliveries
          WHERE tenant_id = $1 AND event_type IN ('message.inbound', 'recipient.opted_out', 'recipient.opted_in')
          ORDER BY id`,
        [tenant],
      );
    expect(events.map((e) => e.event_type)).toEqual([
      'message.inbound',
      'recipient.opted_out',
      'message.inbound',
      'recipient.opted_in',
    ]);
    expect(events[0].payload.data).toMatchObject({
      from: phone,
      to: OUR_NUMBER,
      body: 'STOP',
      keyword: 'stop',
    });
    expect(events[1].payload.data).toMatchObject({ phone_number: phone, keyword: 'STOP' });
  });
});
