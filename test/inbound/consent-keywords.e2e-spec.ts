import { randomBytes, randomInt } from 'node:crypto';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio } from '../fakes/fake-twilio';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

const PUBLIC_BASE_URL = 'https://sms.example.test';
const INBOUND = '/api/sms/webhooks/twilio/inbound';
const OUR_NUMBER = '+15005550006';

type Params = Record<string, string>;
const form = (params: Params) =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
/** A phone no other test texts: a STOP on our shared number reaches every tenant. */
let nextPhone = randomInt(0, 10_000);
const freshPhone = () => `+1415555${String(nextPhone++ % 10_000).padStart(4, '0')}`;

/** STOP revokes promotional consent and START grants it, with source sms_keyword (docs/privacy.md). */
describe('consent by keyword: STOP revokes, START grants', () => {
  const twilioFake = new FakeTwilio();
  let t: TestApp;
  let ds: DataSource;

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
    ds = t.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
  });

  const text = (from: string, body: string) => {
    const params = {
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      AccountSid: FAKE_TWILIO_SID,
      From: from,
      To: OUR_NUMBER,
      Body: body,
    };
    return t
      .http()
      .post(INBOUND)
      .type('form')
      .set(
        'X-Twilio-Signature',
        twilio.getExpectedTwilioSignature(FAKE_TWILIO_TOKEN, `${PUBLIC_BASE_URL}${INBOUND}`, params),
      )
      .send(form(params))
      .expect(200);
  };
  const admin = (tenant: number) => t.auth({ tenant, roles: ['admin'] });

  /** A tenant whose directory holds `phone` as user u1, with this consent; it texts the phone last when `texts`. */
  async function tenantWith(phone: string, status: 'granted' | 'unknown', texts: boolean): Promise<number> {
    const tenant = freshTenantId();
    const recipient = {
      user_id: 'u1',
      phone_number: phone,
      ...(status === 'granted' ? { consent: { sms: { status, source: 'HS_WEB' } } } : {}),
    };
    await t
      .http()
      .put('/api/sms/recipients')
      .set(admin(tenant))
      .send({ recipients: [recipient] })
      .expect(200);
    if (texts) {
      const sent = await t
        .http()
        .post('/api/sms/send')
        .set(admin(tenant))
        .send({ phone_number: phone, message: 'hello', message_type: 'appointment_reminder' })
        .expect(202);
      await waitForStatus(t, { tenant }, sent.body.message_id, 'sent');
    }
    return tenant;
  }

  const consentOf = async (tenant: number) =>
    (await t.http().get('/api/sms/recipients/u1').set(admin(tenant)).expect(200)).body.consent.sms;
  const history = (tenant: number, phone: string) =>
    ds.query(
      `SELECT status, source, keyword, actor, inbound_message_id IS NOT NULL AS has_inbound
         FROM sms_consent_events WHERE tenant_id = $1 AND phone_number = $2 ORDER BY id`,
      [tenant, phone],
    );

  it('STOP revokes the granted consent of every tenant on the shared number; START grants it back to the tenant it answered', async () => {
    const phone = freshPhone();
    const other = await tenantWith(phone, 'granted', false);
    const never = await tenantWith(phone, 'unknown', false);
    const answered = await tenantWith(phone, 'granted', true);

    await text(phone, 'STOP');
    for (const tenant of [answered, other]) {
      expect(await consentOf(tenant)).toEqual({
        status: 'revoked',
        source: 'sms_keyword',
        at: expect.any(String),
      });
      expect(await history(tenant, phone)).toEqual([
        { status: 'granted', source: 'HS_WEB', keyword: null, actor: expect.any(String), has_inbound: false },
        { status: 'revoked', source: 'sms_keyword', keyword: 'STOP', actor: phone, has_inbound: true },
      ]);
    }
    // Nothing to revoke: no consent was given, none is recorded.
    expect(await consentOf(never)).toEqual({ status: 'unknown', source: null, at: null });
    expect(await history(never, phone)).toEqual([]);

    await text(phone, 'START');
    expect(await consentOf(answered)).toEqual({
      status: 'granted',
      source: 'sms_keyword',
      at: expect.any(String),
    });
    expect((await history(answered, phone)).slice(2)).toEqual([
      { status: 'granted', source: 'sms_keyword', keyword: 'START', actor: phone, has_inbound: true },
    ]);
    // The START also lifted the keyword opt-out of the other tenant: its consent is granted again too.
    expect(await consentOf(other)).toMatchObject({ status: 'granted', source: 'sms_keyword' });
    // A tenant that never had consent and whose text the START did not answer gets none.
    expect(await consentOf(never)).toMatchObject({ status: 'unknown' });
  }, 60_000); // many inbound round trips: 20-36 s on a loaded CI host
});
