import { randomBytes, randomInt } from 'node:crypto';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio } from '../fakes/fake-twilio';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { waitForStatus } from '../support/messages';

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
let nextPhone = randomInt(0, 10_000);
const freshPhone = () => `+1312555${String(nextPhone++ % 10_000).padStart(4, '0')}`;

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
    const sent = await send({ tenant }, phone).expect(202);
    // Texted means handed to a provider: replies belong to the tenant whose message went out last.
    await waitForStatus(t, { tenant }, sent.body.message_id, 'sent');
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
        channel: 'sms',
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
    expect(events[1].payload.data).toMatchObject({
      phone_number: phone,
      keyword: 'STOP',
      answered: 'this_tenant',
    });
  });

  describe('across tenants on the shared number', () => {
    /** A receiver for every event of the tenant (never called: the outbox rows are what we read). */
    const subscribe = (tenant: number) =>
      t
        .http()
        .post('/api/sms/webhook-endpoints')
        .set(admin(tenant))
        .send({ url: 'http://127.0.0.1:9/hooks' })
        .expect(201);
    const published = async (tenant: number, type: string): Promise<Record<string, unknown>[]> => {
      const rows: { payload: { data: Record<string, unknown> } }[] = await t
        .get(DataSource)
        .query(
          'SELECT payload FROM sms_webhook_deliveries WHERE tenant_id = $1 AND event_type = $2 ORDER BY id',
          [tenant, type],
        );
      return rows.map((r) => r.payload.data);
    };
    const optOuts = async (tenant: number) =>
      (await t.http().get('/api/sms/opt-outs').set(admin(tenant)).expect(200)).body;

    it("shows each tenant whether the STOP answered its own text or another tenant's", async () => {
      const phone = freshPhone();
      const first = await tenantTexting(phone);
      const last = await tenantTexting(phone); // texted the number last: the STOP answers it
      for (const who of [first, last]) await subscribe(who);
      await text(phone, 'STOP').expect(200);
      for (const [who, answered] of [
        [first, 'another_tenant'],
        [last, 'this_tenant'],
      ] as const) {
        expect(await optOuts(who)).toEqual([
          {
            phone_number: phone,
            source: 'inbound_keyword',
            reason: 'STOP',
            answered,
            created_at: expect.any(String),
          },
        ]);
        // The whole payload: which tenant it was is never shown, only whether it was this one.
        expect(await published(who, 'recipient.opted_out')).toEqual([
          {
            tenant_id: who,
            phone_number: phone,
            keyword: 'STOP',
            inbound_id: expect.any(String),
            source: 'inbound_keyword',
            answered,
          },
        ]);
      }
    });

    it("a START lifts the keyword STOPs, leaves another tenant's admin opt-out and tells only the tenants it lifted", async () => {
      const phone = freshPhone();
      const withAdmin = await tenantTexting(phone);
      const last = await tenantTexting(phone);
      for (const who of [withAdmin, last]) await subscribe(who);
      await t
        .http()
        .post('/api/sms/opt-outs')
        .set(admin(withAdmin))
        .send({ phone_number: phone, reason: 'asked by phone' })
        .expect(204);
      await text(phone, 'STOP').expect(200);
      expect((await text(phone, 'START').expect(200)).text).toContain('You are subscribed again');
      await send({ tenant: last }, phone).expect(202);
      expect((await send({ tenant: withAdmin }, phone).expect(400)).body.message).toContain('opted out');
      expect(await optOuts(withAdmin)).toEqual([
        expect.objectContaining({
          phone_number: phone,
          source: 'admin:1',
          reason: 'asked by phone',
          answered: null,
        }),
      ]);
      expect(await published(last, 'recipient.opted_in')).toEqual([
        expect.objectContaining({ phone_number: phone, keyword: 'START', answered: 'this_tenant' }),
      ]);
      expect(await published(withAdmin, 'recipient.opted_in')).toEqual([]);
      expect(await published(withAdmin, 'recipient.opted_out')).toEqual([]);
    });

    it('an admin opting out a number a STOP listed makes the entry theirs (audited): a START no longer lifts it', async () => {
      const phone = freshPhone();
      const tenant = await tenantTexting(phone);
      await text(phone, 'STOP').expect(200);
      await t
        .http()
        .post('/api/sms/opt-outs')
        .set(admin(tenant))
        .send({ phone_number: phone, reason: 'wrote to us' })
        .expect(204);
      expect(await optOuts(tenant)).toEqual([
        expect.objectContaining({
          phone_number: phone,
          source: 'admin:1',
          reason: 'wrote to us',
          answered: null,
        }),
      ]);
      const audit = await t
        .http()
        .get('/api/sms/audit')
        .query({ target_type: 'opt_out', target_id: phone })
        .set(admin(tenant))
        .expect(200);
      expect(audit.body.items).toEqual([
        expect.objectContaining({
          action: 'opt_out.add',
          before: { phone_number: phone, source: 'inbound_keyword', reason: 'STOP' },
          after: { phone_number: phone, source: 'admin:1', reason: 'wrote to us' },
        }),
      ]);
      const res = await text(phone, 'START').expect(200);
      expect(res.text).toContain('You are still unsubscribed. Please contact the sender to subscribe again.');
      await send({ tenant }, phone).expect(400);
      // The admin can still take it off.
      await t.http().delete(`/api/sms/opt-outs/${phone}`).set(admin(tenant)).expect(204);
      await send({ tenant }, phone).expect(202);
    });

    it('gives a reply to the tenant that texted the number last, not to an earlier one', async () => {
      const phone = freshPhone();
      const a = await tenantTexting(phone);
      const b = await tenantTexting(phone); // B's text came after A's: B owns the reply
      for (const who of [a, b]) await subscribe(who);
      await text(phone, 'Is my order ready?').expect(200);
      expect((await inbound(b)).body.items).toEqual([
        expect.objectContaining({ body: 'Is my order ready?' }),
      ]);
      expect((await inbound(a)).body.items).toEqual([]);
      expect(await published(b, 'message.inbound')).toEqual([
        expect.objectContaining({ from: phone, body: 'Is my order ready?' }),
      ]);
      expect(await published(a, 'message.inbound')).toEqual([]);
    });
  });
});
