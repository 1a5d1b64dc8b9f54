import { DataSource } from 'typeorm';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { Clock } from '../../src/common/clock';
import { routeNoteOf, RoutingScores } from '../../src/providers';
import { RedisService } from '../../src/redis/redis.module';
import { RecordedRequest } from '../fakes/fake-http';
import { FakeSns, snsError } from '../fakes/fake-sns';
import { FakeTwilio, twilioError } from '../fakes/fake-twilio';
import { cancelLeftoverMessages } from '../support/messages';
import { parsePrometheusText } from '../support/prometheus-text';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { NO_CONSENT_NEEDED } from '../support/tenants';
import { eventually } from '../support/wait';
import { fakeSnsEnv, fakeTwilioEnv } from '../fakes/provider-env';

/**
 * Adaptive routing against the real SDKs and the fake Twilio and SNS servers: first attempts move
 * away from a degrading Twilio per destination country well before its circuit would open, and
 * come back as it recovers; pins hold; nothing is sent twice. Windows are short (a 3 s call
 * window, scores exchanged every 100 ms) so that minutes of production take seconds here.
 *
 * The tests run in order and share one app: each starts from the state the previous one left.
 */
function providerEnv(twilioUrl: string, snsUrl: string, extra: Record<string, string> = {}) {
  return {
    ...fakeTwilioEnv(twilioUrl),
    ...fakeSnsEnv(snsUrl),
    SMS_PROVIDERS: 'twilio,sns',
    PUBLIC_BASE_URL: 'https://sms.example.test',
    SMS_PROVIDER_TIMEOUT_MS: '5000',
    SMS_RETRY_BASE_MS: '50',
    SMS_ADMIN_RATE_LIMIT: '1000000',
    SMS_ROUTING_REFRESH_MS: '100',
    SMS_ROUTING_CALL_WINDOW_SECONDS: '3',
    SMS_ROUTING_MIN_SAMPLES: '10',
    // Degradation ramps from half of it: a fake's call on a loaded CI host takes 200-250 ms, which
    // at 300 ms moved a fifth of the healthy Twilio's first attempts away; the slow Twilio is 1.2 s.
    SMS_ROUTING_LATENCY_MS: '800',
    SMS_ROUTING_PROBE_PERCENT: '10',
    // The error rate decides here; Notify's count (its own unit test) would also move US traffic
    // in the test where Twilio fails for Turkey only.
    SMS_ROUTING_ERROR_COUNT: '1000000',
    ...extra,
  };
}

interface Routed {
  id: string;
  phone: string;
  body: string;
  first: string;
  note: string | null;
  provider: string;
  attemptProviders: string[] | null;
}

const phoneOf = (country: 'US' | 'TR', i: number) =>
  country === 'US' ? `+1202555${String(2000 + (i % 7000))}` : `+90532${String(1000000 + i)}`;

/** Makes every `n`th-pattern POST to a fake fail: positions of each ten requests in `failing`. */
function failSome(fake: FakeTwilio, failing: number[], only: (req: RecordedRequest) => boolean = () => true) {
  let n = 0;
  fake.onRequest = async (req) => {
    if (req.method !== 'POST' || !only(req)) return;
    if (failing.includes(n++ % 10)) fake.next(twilioError(503, 20503, 'Service Unavailable'));
  };
}

function slow(fake: FakeTwilio, ms: number) {
  fake.onRequest = async (req) => {
    if (req.method === 'POST') await new Promise((r) => setTimeout(r, ms));
  };
}

const share = (rs: Routed[], provider: string) => rs.filter((r) => r.first === provider).length / rs.length;

describe('adaptive routing (fake Twilio first, fake SNS second)', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  let t: TestApp;
  let ds: DataSource;
  let seq = 0;
  const tenant = freshTenantId();
  const admin = { tenant, roles: ['admin'] };
  const superAdmin = { tenant, roles: ['super_admin'] };
  const all: Routed[] = [];

  beforeAll(async () => {
    await cancelLeftoverMessages(); // the suite counts every call the fakes receive
    t = await createTestApp({ env: providerEnv(await twilioFake.start(), await snsFake.start()) });
    ds = t.get(DataSource);
    await t.http().get('/api/sms/messages').set(t.auth(admin)); // the tenant exists from its first request
    await t
      .http()
      .patch(`/api/sms/tenants/${tenant}`)
      .set(t.auth(superAdmin))
      .send({ settings: { allowed_countries: ['US', 'TR'], ...NO_CONSENT_NEEDED } })
      .expect(200);
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });
  beforeEach(() => {
    twilioFake.onRequest = undefined;
    snsFake.onRequest = undefined;
  });

  /** Sends `n` messages as one bulk and waits until every one is sent; how each was routed. */
  async function wave(
    n: number,
    opts: { country?: 'US' | 'TR'; who?: { tenant: number }; type?: string } = {},
  ) {
    const phones = Array.from({ length: n }, () => phoneOf(opts.country ?? 'US', seq++));
    const body = `adaptive routing ${seq}`;
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth({ ...(opts.who ?? admin), roles: ['admin'] }))
      .send({ phone_numbers: phones, message: body, ...(opts.type ? { message_type: opts.type } : {}) })
      .expect(202);
    const ids = res.body.message_ids as string[];
    const rows = await eventually(
      async () => {
        const r: {
          id: string;
          phone_number: string;
          status: string;
          provider: string;
          attempt_providers: string[] | null;
          payload: Record<string, unknown> | null;
        }[] = await ds.query(
          `SELECT m.id, m.phone_number, m.status, m.provider, m.attempt_providers, e.payload
             FROM sms_messages m
             LEFT JOIN sms_message_events e ON e.message_id = m.id AND e.source = 'worker' AND e.status = 'sent'
            WHERE m.id = ANY($1)`,
          [ids],
        );
        if (r.some((x) => x.status === 'failed')) throw new Error(`a message failed: ${JSON.stringify(r)}`);
        return r.length === n && r.every((x) => x.status === 'sent' && x.payload) ? r : undefined;
      },
      30_000,
      `a wave of ${n} sent`,
    );
    const routed = rows.map((r) => {
      const note = routeNoteOf(r.payload);
      return {
        id: r.id,
        phone: r.phone_number,
        body,
        note,
        first: /^routed to (\w+):/.exec(note ?? '')?.[1] ?? 'none',
        provider: r.provider,
        attemptProviders: r.attempt_providers,
      };
    });
    all.push(...routed);
    return routed;
  }

  /** Every message of the suite reached exactly one provider once (calls for its text and number). */
  function expectEachSentOnce(rs: Routed[]) {
    const created = new Map<string, number>();
    for (const m of twilioFake.sent)
      created.set(`${m.to} ${m.body}`, (created.get(`${m.to} ${m.body}`) ?? 0) + 1);
    for (const m of snsFake.published)
      created.set(`${m.phoneNumber} ${m.message}`, (created.get(`${m.phoneNumber} ${m.message}`) ?? 0) + 1);
    const twice = rs.filter((r) => created.get(`${r.phone} ${r.body}`) !== 1);
    expect(twice).toEqual([]);
  }

  const twilioCalled = (r: Routed) =>
    twilioFake.requests.some((q) => q.method === 'POST' && q.form.To === r.phone && q.form.Body === r.body);

  it('keeps the Twilio-first order while both providers are healthy, and says so on each message', async () => {
    const rs = [...(await wave(20)), ...(await wave(20))];
    expect(share(rs, 'twilio')).toBe(1);
    expect(new Set(rs.map((r) => r.note))).toEqual(new Set(['routed to twilio: default order']));
    expect(rs.every((r) => r.provider === 'twilio' && twilioCalled(r))).toBe(true);
    // The status endpoint shows it on the attempt's event.
    const status = await t.http().get(`/api/sms/messages/${rs[0].id}/status`).set(t.auth(admin)).expect(200);
    expect(status.body.events).toContainEqual(
      expect.objectContaining({ status: 'sent', source: 'worker', route: 'routed to twilio: default order' }),
    );
    expectEachSentOnce(rs);
  });

  it('moves most first attempts to SNS within 200 messages when Twilio fails 30 % of sends, before its circuit opens', async () => {
    failSome(twilioFake, [1, 4, 7]); // 30 %, never two in a row: the circuit (5 in a row) stays closed
    const rs: Routed[] = [];
    for (let i = 0; i < 10; i++) rs.push(...(await wave(20)));
    const last = rs.slice(100);
    expect(share(last, 'sns')).toBeGreaterThanOrEqual(0.7);
    // A message routed to SNS never reached Twilio; one routed to Twilio did.
    for (const r of rs) expect(twilioCalled(r)).toBe(r.first === 'twilio');
    const moved = last.find((r) => r.first === 'sns');
    expect(moved?.note).toMatch(/^routed to sns: twilio errors \d+ % over \d+ s$/);
    const health = await t.http().get('/health/providers').expect(200);
    expect(
      health.body.providers.find((p: { provider: string }) => p.provider === 'twilio').circuit.state,
    ).toBe('closed');
    const us = health.body.routing.destinations.find((d: { country: string }) => d.country === 'US');
    expect(us.providers[0]).toMatchObject({
      provider: 'twilio',
      reason: expect.stringMatching(/^errors \d+ %/),
    });
    expect(us.providers[0].share).toBeLessThan(0.5);
    const metrics = parsePrometheusText((await t.http().get('/metrics').expect(200)).text).samples;
    const twilioShare = metrics.find(
      (m) =>
        m.name === 'sms_routing_first_share' && m.labels.provider === 'twilio' && m.labels.country === 'US',
    );
    expect(twilioShare?.value).toBeLessThan(0.5);
    expectEachSentOnce(rs);
  }, 120_000);

  it('drifts back to Twilio once it recovers', async () => {
    const deadline = Date.now() + 60_000;
    let lastWave: Routed[] = [];
    const rs: Routed[] = [];
    while (Date.now() < deadline) {
      lastWave = await wave(20);
      rs.push(...lastWave);
      if (share(lastWave, 'twilio') >= 0.9) break;
    }
    // It drifted: right after the failures most first attempts still went to SNS.
    expect(share(rs.slice(0, 20), 'sns')).toBeGreaterThan(0.5);
    expect(share(lastWave, 'twilio')).toBeGreaterThanOrEqual(0.9);
    expectEachSentOnce(rs);
  }, 120_000);

  it('moves first attempts away from a slow Twilio within a minute, and back once it answers quickly', async () => {
    slow(twilioFake, 1200);
    const start = Date.now();
    let lastWave: Routed[] = [];
    const rs: Routed[] = [];
    while (Date.now() - start < 60_000) {
      lastWave = await wave(20);
      rs.push(...lastWave);
      if (share(lastWave, 'sns') >= 0.7) break;
    }
    expect(share(lastWave, 'sns')).toBeGreaterThanOrEqual(0.7);
    expect(Date.now() - start).toBeLessThan(60_000);
    expect(lastWave.find((r) => r.first === 'sns')?.note).toMatch(/^routed to sns: twilio latency \d/);

    twilioFake.onRequest = undefined;
    const back = Date.now();
    while (Date.now() - back < 60_000) {
      lastWave = await wave(20);
      rs.push(...lastWave);
      if (share(lastWave, 'twilio') >= 0.9) break;
    }
    expect(share(lastWave, 'twilio')).toBeGreaterThanOrEqual(0.9);
    expectEachSentOnce(rs);
  }, 150_000);

  it('routes per destination country: Twilio failing for Turkey moves Turkish traffic only', async () => {
    failSome(twilioFake, [1, 4, 7], (req) => req.form.To?.startsWith('+90'));
    const tr: Routed[] = [];
    const us: Routed[] = [];
    for (let i = 0; i < 8; i++) {
      tr.push(...(await wave(20, { country: 'TR' })));
      us.push(...(await wave(20)));
    }
    expect(share(tr.slice(-60), 'sns')).toBeGreaterThanOrEqual(0.7);
    expect(share(us.slice(-60), 'twilio')).toBeGreaterThanOrEqual(0.9);
    expectEachSentOnce([...tr, ...us]);
  }, 120_000);

  describe('pins', () => {
    const pinned = freshTenantId();
    const pinnedAdmin = { tenant: pinned, roles: ['admin'] };
    const settings = (s: Record<string, unknown>) =>
      t
        .http()
        .patch(`/api/sms/tenants/${pinned}`)
        .set(t.auth({ tenant: pinned, roles: ['super_admin'] }))
        .send({ settings: s });

    beforeAll(async () => {
      await t.http().get('/api/sms/messages').set(t.auth(pinnedAdmin));
      await settings({ routing: { pin: 'sns', pin_by_type: { appointment_reminder: 'twilio' } } }).expect(
        200,
      );
    });

    it("puts a tenant's pinned provider first, and a message type's pin before it", async () => {
      const general = await wave(10, { who: { tenant: pinned } });
      expect(general.map((r) => r.note)).toEqual(Array(10).fill('routed to sns: pinned by the tenant'));
      // The claim recorded the router's likely first pick; the pin's provider replaced it before the call.
      expect(general.map((r) => r.attemptProviders)).toEqual(Array(10).fill(['sns']));
      const reminders = await wave(10, { who: { tenant: pinned }, type: 'appointment_reminder' });
      expect(reminders.map((r) => r.note)).toEqual(
        Array(10).fill('routed to twilio: pinned for appointment_reminder'),
      );
      expect(reminders.every((r) => r.provider === 'twilio')).toBe(true);
      expectEachSentOnce([...general, ...reminders]);
    });

    it('still falls back to the other provider when the pinned one fails', async () => {
      snsFake.next(snsError(500, 'InternalError', 'internal', 'Receiver'));
      const [r] = await wave(1, { who: { tenant: pinned } });
      expect(r).toMatchObject({ first: 'sns', provider: 'twilio', attemptProviders: ['sns', 'twilio'] });
      expectEachSentOnce([r]);
    });

    it('keeps a pinned message on its provider while adaptive routing moves the others away', async () => {
      failSome(twilioFake, [1, 4, 7]);
      // The call window still holds the healthy calls of the tests before: wait for the move.
      let others: Routed[] = [];
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !(share(others, 'sns') >= 0.5)) others = await wave(20);
      expect(share(others, 'sns')).toBeGreaterThanOrEqual(0.5);
      const reminders = await wave(20, { who: { tenant: pinned }, type: 'appointment_reminder' });
      expect(share(reminders, 'twilio')).toBe(1);
      twilioFake.onRequest = undefined;
    }, 60_000);

    it('refuses a pin that is not a provider, naming the field, and changes nothing', async () => {
      const bad = await settings({ routing: { pin: 'vodafone' } }).expect(400);
      expect(bad.body.details).toEqual([expect.objectContaining({ field: 'settings.routing.pin' })]);
      const badType = await settings({
        routing: { pin_by_type: { appointment_reminder: 'carrier-pigeon' } },
      }).expect(400);
      expect(badType.body.details).toEqual([
        expect.objectContaining({ field: 'settings.routing.pin_by_type' }),
      ]);
      expect(badType.body.message).toContain(
        'routing.pin_by_type.appointment_reminder must be one of twilio, sns',
      );
      const tenantRow = await t
        .http()
        .get(`/api/sms/tenants/${pinned}`)
        .set(t.auth({ tenant: pinned, roles: ['super_admin'] }))
        .expect(200);
      expect(tenantRow.body.settings.routing).toEqual({
        pin: 'sns',
        pin_by_type: { appointment_reminder: 'twilio' },
      });
    });
  });

  it('sent each message of the suite to a provider once', () => {
    expect(all.length).toBeGreaterThan(400);
    expectEachSentOnce(all);
  });
});

describe('adaptive routing without its score store (Redis unreachable for the scores)', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  let t: TestApp;
  let deadRedis: RedisService;

  beforeAll(async () => {
    await cancelLeftoverMessages();
    const env = providerEnv(await twilioFake.start(), await snsFake.start());
    deadRedis = new RedisService(
      loadConfig({
        ...process.env,
        ...env,
        REDIS_URL: 'redis://127.0.0.1:1',
        REDIS_CONNECT_TIMEOUT_MS: '200',
      }),
    );
    t = await createTestApp({
      env,
      // The scores' own Redis is a port nobody listens on; the queues and rate limits keep theirs.
      override: (b) =>
        b.overrideProvider(RoutingScores).useFactory({
          inject: [AppConfig, Clock],
          factory: (config: AppConfig, clock: Clock) => new RoutingScores(config, deadRedis, clock),
        }),
    });
  });
  afterAll(async () => {
    await t.close();
    await deadRedis.onApplicationShutdown();
    await twilioFake.stop();
    await snsFake.stop();
  });

  it('takes the configured order and still sends every message, falling back on failure', async () => {
    failSome(twilioFake, [1, 4, 7]);
    const tenant = freshTenantId();
    const phones = Array.from({ length: 60 }, (_, i) => phoneOf('US', 3000 + i));
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth({ tenant, roles: ['admin'] }))
      .send({ phone_numbers: phones, message: 'no scores' })
      .expect(202);
    const ids = res.body.message_ids as string[];
    const ds = t.get(DataSource);
    const rows = await eventually(
      async () => {
        const r: { status: string; provider: string; payload: Record<string, unknown> | null }[] =
          await ds.query(
            `SELECT m.status, m.provider, e.payload FROM sms_messages m
             LEFT JOIN sms_message_events e ON e.message_id = m.id AND e.source = 'worker' AND e.status = 'sent'
            WHERE m.id = ANY($1)`,
            [ids],
          );
        return r.length === 60 && r.every((x) => x.status === 'sent') ? r : undefined;
      },
      30_000,
      '60 messages sent',
    );
    expect(new Set(rows.map((r) => routeNoteOf(r.payload)))).toEqual(
      new Set(['routed to twilio: default order (routing scores unavailable)']),
    );
    // Twilio's failures fell back to SNS as before; each number got its message once.
    expect(rows.filter((r) => r.provider === 'sns').length).toBeGreaterThan(0);
    expect(twilioFake.sent.length + snsFake.published.length).toBe(60);
    expect(
      new Set([...twilioFake.sent.map((m) => m.to), ...snsFake.published.map((m) => m.phoneNumber)]).size,
    ).toBe(60);
    const health = await t.http().get('/health/providers').expect(200);
    expect(health.body.routing).toMatchObject({ adaptive: true, available: false });
  });
});
