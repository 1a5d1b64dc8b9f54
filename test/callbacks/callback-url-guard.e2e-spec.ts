import { HostResolver } from '../../src/callbacks';
import { FakeDns } from '../support/fake-dns';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/**
 * One guard for every URL the service calls (WEBHOOK_ALLOW_INSECURE off, as in production):
 * endpoint registration, status_callback_url on each send route and each delivery attempt refuse
 * the same addresses, IPv4 addresses embedded in IPv6 and names that resolve to them included.
 * DNS is the test's own (FakeDns): `vm.example.com` resolves to loopback as `vm` did in the report.
 */
const FAST = {
  SANDBOX_DELIVERY_DELAY_MS: '10',
  WEBHOOK_DISPATCH_INTERVAL_MS: '20',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_ALLOW_INSECURE: 'false',
};

const REFUSED: [string, string, RegExp][] = [
  [
    'a name that resolves to 127.0.0.1',
    'https://vm.example.com/cb',
    /resolves to a private or reserved address/,
  ],
  ['IPv4-compatible loopback', 'https://[::7f00:1]/cb', /private or reserved address/],
  ['IPv4-translated loopback', 'https://[::ffff:0:7f00:1]/cb', /private or reserved address/],
  ['NAT64 (local-use) metadata address', 'https://[64:ff9b:1::a9fe:a9fe]/cb', /private or reserved address/],
];

const appointmentVars = {
  date: 'March 15, 2024',
  time: '2:00 PM',
  trainer_name: 'John Doe',
  location: 'Room A',
};
const inOneHour = () => new Date(Date.now() + 3600_000).toISOString();

/** Each send route that takes status_callback_url, with a body it would otherwise accept. */
const ROUTES: [string, () => Record<string, unknown>][] = [
  ['/api/sms/send', () => ({ phone_number: '+12025550123', message: 'hi' })],
  ['/api/sms/send-bulk', () => ({ phone_numbers: ['+12025550123', '+12025550124'], message: 'hi' })],
  ['/api/sms/schedule', () => ({ phone_number: '+12025550123', message: 'hi', scheduled_time: inOneHour() })],
  [
    '/api/sms/send-templated',
    () => ({ phone_number: '+12025550123', template_id: 'appointment_reminder', variables: appointmentVars }),
  ],
];

describe('the callback URL guard over HTTP', () => {
  let api: TestApp;
  const dns = new FakeDns()
    .set('hooks.example.com', ['93.184.216.34'])
    .set('vm.example.com', ['127.0.0.1'])
    .set('slow.example.com', 'hang');

  beforeAll(async () => {
    api = await createTestApp({
      env: { ...FAST, APP_ROLE: 'api' },
      override: (b) => b.overrideProvider(HostResolver).useValue(dns),
    });
  });
  afterAll(() => api.close());

  const admin = () => ({ tenant: freshTenantId(), roles: ['admin'] });

  it.each(REFUSED)(
    'refuses %s at registration with a 400 naming url, storing nothing',
    async (_w, url, why) => {
      const who = admin();
      const res = await api
        .http()
        .post('/api/sms/webhook-endpoints')
        .set(api.auth(who))
        .send({ url })
        .expect(400);
      expect(res.body.details).toEqual([{ field: 'url', errors: [expect.stringMatching(why)] }]);
      expect(
        (await api.http().get('/api/sms/webhook-endpoints').set(api.auth(who)).expect(200)).body,
      ).toEqual([]);
    },
  );

  describe.each(ROUTES)('%s', (route, body) => {
    it.each(REFUSED)(
      'refuses %s as status_callback_url with a 400 naming it, storing nothing',
      async (_w, url, why) => {
        const who = admin();
        const res = await api
          .http()
          .post(route)
          .set(api.auth(who))
          .send({ ...body(), status_callback_url: url })
          .expect(400);
        expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(res.body.details).toEqual([
          { field: 'status_callback_url', errors: [expect.stringMatching(why)] },
        ]);
        const history = await api.http().get('/api/sms/history').set(api.auth(who)).expect(200);
        expect(history.body.items).toEqual([]);
      },
    );

    it('accepts a status_callback_url whose host resolves to public addresses only', async () => {
      await api
        .http()
        .post(route)
        .set(api.auth(admin()))
        .send({ ...body(), status_callback_url: 'https://hooks.example.com/cb' })
        .expect(202);
    });
  });

  it('answers 400 in bounded time when the host does not resolve or DNS does not answer', async () => {
    const who = admin();
    const send = (url: string) =>
      api
        .http()
        .post('/api/sms/send')
        .set(api.auth(who))
        .send({ phone_number: '+12025550123', message: 'hi', status_callback_url: url })
        .expect(400);
    expect((await send('https://nowhere.example.com/cb')).body.details).toEqual([
      { field: 'status_callback_url', errors: ['status_callback_url host does not resolve'] },
    ]);
    const started = Date.now();
    expect((await send('https://slow.example.com/cb')).body.details).toEqual([
      { field: 'status_callback_url', errors: [expect.stringMatching(/did not resolve in time/)] },
    ]);
    expect(Date.now() - started).toBeLessThan(3000);
    const history = await api.http().get('/api/sms/history').set(api.auth(who)).expect(200);
    expect(history.body.items).toEqual([]);
  });
});

describe('the callback URL guard at delivery', () => {
  let api: TestApp;
  let worker: TestApp | undefined;
  const dns = new FakeDns()
    .set('hooks.example.com', ['93.184.216.34'])
    .set('rebind.example.com', ['93.184.216.34']);
  dns.set('stalls.example.com', ['93.184.216.34']);

  beforeAll(async () => {
    api = await createTestApp({
      env: { ...FAST, APP_ROLE: 'api' },
      override: (b) => b.overrideProvider(HostResolver).useValue(dns),
    });
  });
  afterAll(async () => {
    await worker?.close();
    await api.close();
  });

  it('re-resolves the host and refuses an address that changed to a private one since the send; retries a DNS that does not answer', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    // The tenant's signing endpoint (it takes no events of its own).
    await api
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(api.auth(who))
      .send({ url: 'https://hooks.example.com/signer', events: [] })
      .expect(201);
    const send = async (host: string) =>
      (
        await api
          .http()
          .post('/api/sms/send')
          .set(api.auth(who))
          .send({ phone_number: '+12025550123', message: 'hi', status_callback_url: `https://${host}/cb` })
          .expect(202)
      ).body.message_id as string;
    const rebound = await send('rebind.example.com');
    const stalled = await send('stalls.example.com');
    // After the checks at accept: one name now points at the metadata service, the other's DNS hangs.
    dns.set('rebind.example.com', ['::ffff:0:a9fe:a9fe']).set('stalls.example.com', 'hang');
    worker = await createTestApp({
      env: { ...FAST, APP_ROLE: 'worker', WEBHOOK_RETRY_BASE_MS: '600000' },
      override: (b) => b.overrideProvider(HostResolver).useValue(dns),
    });
    const deliveries = (message: string) =>
      eventually(async () => {
        const page = await api
          .http()
          .get(`/api/sms/webhook-deliveries?message_id=${message}`)
          .set(api.auth(who))
          .expect(200);
        // Claimed rows count their attempt at once: wait for the attempt's answer.
        const tried = page.body.items.filter((d: { last_error: string | null }) => d.last_error !== null);
        return tried.length > 0 ? tried : undefined;
      });
    for (const d of await deliveries(rebound))
      expect(d).toMatchObject({
        status: 'failed',
        attempts: 1,
        last_status_code: null,
        last_error: 'refused: url host resolves to a private or reserved address',
      });
    for (const d of await deliveries(stalled))
      expect(d).toMatchObject({
        status: 'pending',
        attempts: 1,
        last_status_code: null,
        last_error: expect.stringMatching(/^url host did not resolve in time/),
      });
  });
});
