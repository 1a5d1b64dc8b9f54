import twilio from 'twilio';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/sdk';
import { FAKE_TWILIO_TOKEN, FakeTwilio, twilioError } from '../fakes/fake-twilio';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';
import { fakeTwilioEnv } from '../fakes/provider-env';

const PUBLIC_BASE_URL = 'https://sms.example.test';
const STATUS_WEBHOOK = '/api/sms/webhooks/twilio/status';

describe('failure reasons a person can act on (fake Twilio, over HTTP)', () => {
  const twilioFake = new FakeTwilio();
  const receiver = new WebhookReceiver();
  let t: TestApp;
  let receiverUrl: string;

  beforeAll(async () => {
    receiverUrl = await receiver.start();
    t = await createTestApp({
      env: {
        SMS_PROVIDERS: 'twilio',
        ...fakeTwilioEnv(await twilioFake.start()),
        PUBLIC_BASE_URL,
        SMS_RETRY_BASE_MS: '50',
        WEBHOOK_ALLOW_INSECURE: 'true',
        WEBHOOK_DISPATCH_INTERVAL_MS: '20',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await receiver.stop();
  });
  beforeEach(() => twilioFake.reset());

  /** A tenant admin with an endpoint that receives every event on its own path. */
  async function tenantWithEndpoint(path: string) {
    const who = { tenant: freshTenantId(), user: 'ops', roles: ['admin'] };
    const res = await t
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(t.auth(who))
      .send({ url: `${receiverUrl}${path}` })
      .expect(201);
    return { who, secret: res.body.secret as string };
  }

  async function send(who: { tenant: number }, phone: string): Promise<string> {
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: phone, message: 'Your class starts at 6 PM' })
      .expect(202);
    return res.body.message_id as string;
  }

  const historyOf = async (who: { tenant: number }, phone: string) =>
    (await t.http().get('/api/sms/history').query({ phone_number: phone }).set(t.auth(who)).expect(200)).body
      .items as { message_id: string; status: string; failure: unknown }[];

  const callback = (path: string, type: string) =>
    eventually(
      async () => receiver.on(path).find((r) => r.json.type === type),
      10_000,
      `a ${type} callback on ${path}`,
    );

  it('a number Twilio refuses as not mobile (21614) fails once, and status, history and the callback say why', async () => {
    const { who, secret } = await tenantWithEndpoint('/not-mobile');
    twilioFake.next(twilioError(400, 21614, "The 'To' number +12025550147 is not a valid mobile number."));
    const id = await send(who, '+12025550147');

    const status = await waitForStatus(t, who, id, 'failed');
    const failure = {
      reason: 'not_mobile',
      retryable: false,
      provider: 'twilio',
      provider_code: '21614',
      message: {
        en: 'The number cannot receive SMS (a landline, or a line without SMS) (Twilio 21614): use a mobile number; retrying will not help.',
        tr: 'Numara SMS alamıyor (sabit hat ya da SMS almayan bir hat) (Twilio 21614): bir cep telefonu numarası kullanın; yeniden denemek işe yaramaz.',
      },
    };
    expect(status).toMatchObject({ error_code: 'twilio:21614', failure });
    // Permanent: no retry, no second call.
    expect(twilioFake.requests.filter((r) => r.form.To === '+12025550147')).toHaveLength(1);

    const [item] = await historyOf(who, '+12025550147');
    expect(item).toMatchObject({ message_id: id, status: 'failed', failure });

    const got = await callback('/not-mobile', 'message.failed');
    expect(
      verifyWebhookSignature(secret, got.headers[SIGNATURE_HEADER.toLowerCase()] as string, got.raw, 300),
    ).toBe(true);
    expect(got.json.data).toMatchObject({
      message_id: id,
      status: 'failed',
      error_code: 'twilio:21614',
      failure,
    });
  });

  it('a receipt "undelivered, 30005" reads: number not in service, check the number, retrying will not help', async () => {
    const { who } = await tenantWithEndpoint('/not-in-service');
    const id = await send(who, '+12025550148');
    const sent = await waitForStatus(t, who, id, 'sent');
    // While it is on its way there is nothing to explain, here and in the message.sent callback.
    expect(sent.failure).toBeNull();
    expect((await callback('/not-in-service', 'message.sent')).json.data).toMatchObject({
      message_id: id,
      failure: null,
    });

    const params = { MessageSid: sent.provider_message_id, MessageStatus: 'undelivered', ErrorCode: '30005' };
    await t
      .http()
      .post(STATUS_WEBHOOK)
      .type('form')
      .set(
        'X-Twilio-Signature',
        twilio.getExpectedTwilioSignature(FAKE_TWILIO_TOKEN, `${PUBLIC_BASE_URL}${STATUS_WEBHOOK}`, params),
      )
      .send(params)
      .expect(204);

    const undelivered = await waitForStatus(t, who, id, 'undelivered');
    expect(undelivered.failure).toEqual({
      reason: 'number_not_in_service',
      retryable: false,
      provider: 'twilio',
      provider_code: '30005',
      message: {
        en: 'Number not in service (Twilio 30005): check the number; retrying will not help.',
        tr: 'Numara kullanımda değil (Twilio 30005): numarayı kontrol edin; yeniden denemek işe yaramaz.',
      },
    });
    const [item] = await historyOf(who, '+12025550148');
    expect(item.failure).toEqual(undelivered.failure);
    const got = await callback('/not-in-service', 'message.undelivered');
    expect(got.json.data).toMatchObject({ message_id: id, error_code: 'twilio:30005' });
    expect(got.json.data.failure).toEqual(undelivered.failure);
  });

  it('a message canceled before it was sent says so', async () => {
    const who = { tenant: freshTenantId() };
    const res = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550149',
        message: 'Tomorrow',
        scheduled_time: new Date(Date.now() + 3600_000).toISOString(),
      })
      .expect(202);
    const id = res.body.message_id as string;
    expect((await waitForStatus(t, who, id, 'scheduled')).failure).toBeNull();
    await t.http().delete(`/api/sms/messages/${id}`).set(t.auth(who)).expect(204);
    const canceled = await waitForStatus(t, who, id, 'canceled');
    expect(canceled.failure).toMatchObject({ reason: 'canceled', retryable: true, provider: null });
    expect(canceled.failure.message.en).toBe(
      'The message was canceled before it was sent: send it again if it is still needed; retrying later may help.',
    );
  });
});
