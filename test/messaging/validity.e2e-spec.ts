import { Clock } from '../../src/common/clock';
import { SmsRouter } from '../../src/providers';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/sdk';
import { FakeSns, snsError } from '../fakes/fake-sns';
import { FakeTwilio } from '../fakes/fake-twilio';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { FakeClock } from '../support/fake-clock';
import { cancelLeftoverMessages, waitForStatus } from '../support/messages';
import { allowCountries } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';
import { fakeSnsEnv, fakeTwilioEnv } from '../fakes/provider-env';

/**
 * Validity periods (issue 22, item 2) through HTTP, with the real worker, fake Twilio and fake SNS
 * (real SDKs) and a clock the test moves: a message not handed to a provider within its validity
 * ends `expired` (never sent, never charged, `message.expired`); Twilio gets ValidityPeriod; no
 * fallback goes out after the validity; nothing waits past it.
 */

const internalError = {
  status: 500,
  contentType: 'application/json',
  body: '{"code":20500,"message":"Internal Server Error","status":500}',
};

function providerEnv(
  twilioUrl: string,
  snsUrl: string,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    ...fakeTwilioEnv(twilioUrl),
    ...fakeSnsEnv(snsUrl),
    SMS_PROVIDERS: 'twilio,sns',
    PUBLIC_BASE_URL: 'https://sms.example.test',
    SMS_PROVIDER_TIMEOUT_MS: '2000',
    SMS_RETRY_BASE_MS: '50',
    SMS_MAX_ATTEMPTS: '3',
    ...extra,
  };
}

/** The calls each fake received for one number (other suites' leftovers may use the fakes too). */
function callsTo(twilioFake: FakeTwilio, snsFake: FakeSns, phone: string) {
  return {
    twilio: twilioFake.requests.filter((r) => r.method === 'POST' && r.form.To === phone).length,
    sns: snsFake.requests.filter((r) => r.form.PhoneNumber === phone).length,
  };
}

const eventsOf = (status: { events: { status: string }[] }) => status.events.map((e) => e.status);

describe('validity periods while every provider is down (a 2-minute outage)', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  const receiver = new WebhookReceiver();
  const clock = new FakeClock();
  let t: TestApp;

  beforeAll(async () => {
    await cancelLeftoverMessages(); // the suite counts every call the fakes receive
    const callbacks = await receiver.start();
    t = await createTestApp({
      env: providerEnv(await twilioFake.start(), await snsFake.start(), {
        // One failure opens a circuit, and it stays open two minutes: the outage as the router sees it.
        SMS_CIRCUIT_FAILURE_THRESHOLD: '1',
        SMS_CIRCUIT_COOLDOWN_MS: '120000',
        WEBHOOK_ALLOW_INSECURE: 'true',
        WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      }),
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
    expect(callbacks).toBe(receiver.url);
    // The outage: both providers answer 500 until the suite ends; one message opens both circuits.
    twilioFake.answerAlways(internalError);
    snsFake.answerAlways(snsError(500, 'InternalError', 'internal', 'Receiver'));
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_number: '+12025550900', message: 'opens the circuits' })
      .expect(202);
    const router = t.get(SmsRouter).router;
    await eventually(
      async () => (router.down().length === 2 ? true : undefined),
      10_000,
      'both circuits to open',
    );
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
    await receiver.stop();
  });

  const send = async (who: TokenOptions, phone: string, extra: Record<string, unknown> = {}) =>
    (
      await t
        .http()
        .post('/api/sms/send')
        .set(t.auth(who))
        .send({ phone_number: phone, message: 'Your shift starts at 9', ...extra })
        .expect(202)
    ).body.message_id as string;

  it('ends a /send expired at once when no provider can take it within its validity, calling none', async () => {
    const who = { tenant: freshTenantId() };
    const id = await send(who, '+12025550901', { validity_seconds: 30 });
    const status = await waitForStatus(t, who, id, 'expired');
    expect(status).toMatchObject({
      error_code: 'validity_expired',
      provider: null,
      cost: null,
      // Nothing was tried: the attempt is given back.
      attempts: 0,
    });
    expect(status.error_message).toContain('before the next attempt could be made');
    expect(Date.parse(status.expires_at) - Date.parse(status.created_at)).toBe(30_000);
    expect(eventsOf(status)).toEqual(['queued', 'sending', 'expired']);
    expect(callsTo(twilioFake, snsFake, '+12025550901')).toEqual({ twilio: 0, sns: 0 });
    const history = await t.http().get('/api/sms/history?status=expired').set(t.auth(who)).expect(200);
    expect(history.body.items).toEqual([
      expect.objectContaining({ message_id: id, status: 'expired', expires_at: status.expires_at }),
    ]);
  });

  it('keeps a message without a validity waiting for the providers instead', async () => {
    const who = { tenant: freshTenantId() };
    const id = await send(who, '+12025550902');
    const status = await eventually(async () => {
      const s = (await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who))).body;
      // Status and events are two reads: a half-open trial may claim it between them, so wait for
      // a read that shows it back in 'queued' after its first attempt.
      return s.status === 'queued' && eventsOf(s).length >= 3 ? s : undefined;
    });
    expect(status).toMatchObject({ status: 'queued', expires_at: null, attempts: 0 });
    expect(eventsOf(status).slice(0, 3)).toEqual(['queued', 'sending', 'queued']);
    expect(eventsOf(status)).not.toContain('expired');
  });

  it('a code queued behind the outage with a 60 s validity ends expired: nothing reaches a provider, and message.expired is called back', async () => {
    const tenant = freshTenantId();
    const admin = { tenant, roles: ['admin'] };
    const user = { tenant, user: 'u1' };
    const endpoint = (
      await t
        .http()
        .post('/api/sms/webhook-endpoints')
        .set(t.auth(admin))
        .send({ url: `${receiver.url}/expired`, events: ['message.expired'] })
        .expect(201)
    ).body as { secret: string };
    const phone = '+12025550903';
    const res = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(user))
      .send({ phone_number: phone, purpose: '2fa', validity_seconds: 60 })
      .expect(202);
    const id = res.body.message_id as string;
    const status = await waitForStatus(t, admin, id, 'expired');
    expect(status).toMatchObject({ error_code: 'validity_expired', provider: null, attempts: 0 });
    expect(Date.parse(status.expires_at) - Date.parse(status.created_at)).toBe(60_000);
    // The code itself keeps its own lifetime (SMS_CODE_TTL_SECONDS).
    expect(Date.parse(res.body.expires_at) - Date.parse(status.created_at)).toBe(600_000);
    expect(callsTo(twilioFake, snsFake, phone)).toEqual({ twilio: 0, sns: 0 });

    const [callback] = await eventually(
      async () => (receiver.on('/expired').length ? receiver.on('/expired') : undefined),
      10_000,
      'the message.expired callback',
    );
    expect(
      verifyWebhookSignature(
        endpoint.secret,
        callback.headers[SIGNATURE_HEADER.toLowerCase()] as string,
        callback.raw,
        300,
      ),
    ).toBe(true);
    expect(callback.json).toMatchObject({
      type: 'message.expired',
      data: {
        message_id: id,
        tenant_id: tenant,
        phone_number: phone,
        status: 'expired',
        error_code: 'validity_expired',
      },
    });
    expect(receiver.on('/expired')).toHaveLength(1);

    // Counted as expired in the stats, and never as a cost.
    const stats = await eventually(async () => {
      const s = (await t.http().get('/api/sms/stats').set(t.auth(admin)).expect(200)).body;
      return s.totals.expired === 1 ? s : undefined;
    });
    expect(stats.totals).toMatchObject({ total: 1, expired: 1, sent: 0, actual_cost: '0' });
    const month = clock.now().toISOString().slice(0, 7);
    const costs = await t.http().get(`/api/sms/reports/costs?month=${month}`).set(t.auth(admin)).expect(200);
    expect(costs.body.totals).toEqual([]);
  });

  it('expires a deferred message whose validity ends while it waits, within seconds (the sweep)', async () => {
    const who = { tenant: freshTenantId() };
    // Five minutes: longer than the circuits' two, so it waits for their next trial...
    const id = await send(who, '+12025550904', { validity_seconds: 300 });
    await eventually(async () => {
      const s = (await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who))).body;
      return eventsOf(s).length === 3 && s.status === 'queued' ? s : undefined;
    });
    // ...and its validity ends before that trial: the sweep ends it, with no job to wait for.
    clock.advance(301_000);
    const status = await waitForStatus(t, who, id, 'expired', 8_000);
    expect(status.events.at(-1)).toMatchObject({ status: 'expired', source: 'sweeper' });
    expect(callsTo(twilioFake, snsFake, '+12025550904')).toEqual({ twilio: 0, sns: 0 });
  });
});

describe('validity periods with providers up', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  const clock = new FakeClock();
  let t: TestApp;

  beforeAll(async () => {
    await cancelLeftoverMessages();
    t = await createTestApp({
      env: providerEnv(await twilioFake.start(), await snsFake.start(), {
        SMS_CIRCUIT_FAILURE_THRESHOLD: '100',
      }),
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
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

  const twilioForm = (phone: string) => twilioFake.requests.find((r) => r.form.To === phone)?.form;

  it('gives Twilio the seconds left as ValidityPeriod, and nothing when there is no validity', async () => {
    const who = { tenant: freshTenantId() };
    const post = (phone: string, extra: Record<string, unknown> = {}) =>
      t
        .http()
        .post('/api/sms/send')
        .set(t.auth(who))
        .send({ phone_number: phone, message: 'Doors open at 9', ...extra })
        .expect(202);
    const withValidity = await post('+12025550911', { validity_seconds: 120 });
    const without = await post('+12025550912');
    const code = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550913', purpose: 'password_reset' })
      .expect(202);
    for (const id of [withValidity.body.message_id, without.body.message_id, code.body.message_id])
      await waitForStatus(t, who, id, 'sent');
    const period = (phone: string) => Number(twilioForm(phone)?.ValidityPeriod);
    expect(period('+12025550911')).toBeGreaterThanOrEqual(118);
    expect(period('+12025550911')).toBeLessThanOrEqual(120);
    expect(twilioForm('+12025550912')).not.toHaveProperty('ValidityPeriod');
    // A code: its own lifetime (SMS_CODE_TTL_SECONDS, 600) by default.
    expect(period('+12025550913')).toBeGreaterThanOrEqual(598);
    expect(period('+12025550913')).toBeLessThanOrEqual(600);
  });

  it('does not call the fallback once the validity has passed during a failed Twilio call', async () => {
    const who = { tenant: freshTenantId() };
    twilioFake.answerAlways(internalError);
    // Twilio takes its time to fail: the validity runs out meanwhile.
    twilioFake.onRequest = async (req) => {
      if (req.form.To === '+12025550921') clock.advance(61_000);
    };
    const late = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550921', purpose: '2fa', validity_seconds: 60 })
      .expect(202);
    const status = await waitForStatus(t, who, late.body.message_id, 'expired');
    expect(status).toMatchObject({ error_code: 'validity_expired', provider: null, attempts: 1 });
    expect(status.error_message).toContain('not handed to a provider within its validity period');
    expect(eventsOf(status)).toEqual(['queued', 'sending', 'expired']);
    expect(callsTo(twilioFake, snsFake, '+12025550921')).toEqual({ twilio: 1, sns: 0 });

    // In time, the same failure falls back to SNS as ever.
    const inTime = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550922', purpose: '2fa', validity_seconds: 60 })
      .expect(202);
    const sent = await waitForStatus(t, who, inTime.body.message_id, 'sent');
    expect(sent.provider).toBe('sns');
    expect(callsTo(twilioFake, snsFake, '+12025550922')).toEqual({ twilio: 1, sns: 1 });
  });

  it('counts a scheduled message from its scheduled time, and ends it expired once that validity passes unsent', async () => {
    const who = { tenant: freshTenantId() };
    const at = new Date(clock.now().getTime() + 3_600_000);
    const res = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550931',
        message: 'Reminder',
        scheduled_time: at.toISOString(),
        validity_seconds: 60,
      })
      .expect(202);
    const id = res.body.message_id as string;
    const before = (await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200)).body;
    expect(before).toMatchObject({
      status: 'scheduled',
      expires_at: new Date(at.getTime() + 60_000).toISOString(),
    });
    // Its job waits in Redis for the real hour; the clock moves past the validity's end meanwhile.
    clock.advance(3_600_000 + 61_000);
    const status = await waitForStatus(t, who, id, 'expired', 8_000);
    expect(status.events.at(-1)).toMatchObject({ status: 'expired', source: 'sweeper' });
    expect(callsTo(twilioFake, snsFake, '+12025550931')).toEqual({ twilio: 0, sns: 0 });
  });

  it("gives a campaign's messages its own validity, else its template's", async () => {
    const tenant = freshTenantId();
    const admin = { tenant, roles: ['admin'] };
    await allowCountries(t, tenant, ['US']);
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(admin))
      .send({
        template_id: 'flash_sale',
        name: 'Flash sale',
        content_en: 'Hi {{name}}, 20% off until noon',
        message_type: 'flash_sale',
        variables: ['name'],
        validity_seconds: 900,
      })
      .expect(201);
    const recipients = [{ user_id: 'r1', phone_number: '+12025550941', attributes: { name: 'Ann' } }];
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients }).expect(200);
    const run = async (extra: Record<string, unknown>) => {
      const created = await t
        .http()
        .post('/api/sms/campaigns')
        .set(t.auth(admin))
        .send({
          name: 'Flash',
          template_id: 'flash_sale',
          recipient_filters: { user_ids: ['r1'], tenant_id: tenant },
          ...extra,
        })
        .expect(201);
      await t
        .http()
        .post(`/api/sms/campaigns/${created.body.campaign_id}/execute`)
        .set(t.auth(admin))
        .expect(202);
      const [message] = await eventually(async () => {
        const page = await t
          .http()
          .get(`/api/sms/history?campaign_id=${created.body.campaign_id}`)
          .set(t.auth(admin))
          .expect(200);
        return page.body.items.length ? page.body.items : undefined;
      });
      return {
        campaign: created.body,
        validity: (Date.parse(message.expires_at) - Date.parse(message.created_at)) / 1000,
      };
    };
    const own = await run({ validity_seconds: 120 });
    expect(own.campaign.validity_seconds).toBe(120);
    expect(own.validity).toBe(120);
    const byTemplate = await run({});
    expect(byTemplate.campaign.validity_seconds).toBeNull();
    expect(byTemplate.validity).toBe(900);
  });

  it.each([
    ['/api/sms/send', { phone_number: '+12025550951', message: 'x', validity_seconds: 0 }, false],
    [
      '/api/sms/send-bulk',
      { phone_numbers: ['+12025550951'], message: 'x', validity_seconds: 259_201 },
      false,
    ],
    [
      '/api/sms/schedule',
      {
        phone_number: '+12025550951',
        message: 'x',
        scheduled_time: '2099-01-01T00:00:00Z',
        validity_seconds: 'soon',
      },
      false,
    ],
    [
      '/api/sms/send-templated',
      {
        phone_number: '+12025550951',
        template_id: 'welcome_message',
        variables: { name: 'A' },
        validity_seconds: 1.5,
      },
      false,
    ],
    [
      '/api/sms/verification/send',
      { phone_number: '+12025550951', purpose: '2fa', validity_seconds: -1 },
      false,
    ],
    ['/api/sms/appointments/a1/remind', { validity_seconds: 0 }, false],
    [
      '/api/sms/templates',
      {
        template_id: 'v',
        name: 'v',
        content_en: 'v',
        message_type: 'v_type',
        variables: [],
        validity_seconds: 0,
      },
      true,
    ],
    [
      '/api/sms/campaigns',
      { name: 'c', template_id: 'welcome_message', recipient_filters: {}, validity_seconds: 300_000 },
      true,
    ],
  ])(
    'POST %s refuses a bad validity_seconds with a 400 naming it, storing nothing',
    async (path, body, asAdmin) => {
      const tenant = freshTenantId();
      const who = asAdmin ? { tenant, roles: ['admin'] } : { tenant };
      const res = await t.http().post(path).set(t.auth(who)).send(body).expect(400);
      expect(res.body.details).toEqual([expect.objectContaining({ field: 'validity_seconds' })]);
      const rows = await t
        .http()
        .get('/api/sms/history')
        .set(t.auth({ tenant, roles: ['admin'] }))
        .expect(200);
      expect(rows.body.items).toEqual([]);
    },
  );
});
