import { DataSource } from 'typeorm';
import { WebhookDispatcher } from '../../src/callbacks';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/sdk';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { cancelLeftoverMessages, waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

const FAST = {
  SANDBOX_DELIVERY_DELAY_MS: '10',
  WEBHOOK_DISPATCH_INTERVAL_MS: '20',
  WEBHOOK_RETRY_BASE_MS: '50',
};

function verified(secret: string, r: { headers: Record<string, unknown>; raw: string }): boolean {
  return verifyWebhookSignature(secret, r.headers[SIGNATURE_HEADER.toLowerCase()] as string, r.raw, 300);
}

describe('outbound webhooks (callbacks to the platform)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let base: string;
  let ds: DataSource;

  beforeAll(async () => {
    // Earlier suites' waiting messages (a run's 10,000-number bulks) would be delivered by this
    // app first, over the run's shared database and queues: this suite's callbacks waited behind
    // them past the test's 30 s in one CI run.
    await cancelLeftoverMessages();
    receiver = new WebhookReceiver();
    base = await receiver.start();
    t = await createTestApp({ env: { ...FAST, WEBHOOK_ALLOW_INSECURE: 'true' } });
    ds = t.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await receiver.stop();
  });

  const admin = (tenant = freshTenantId()) => ({ tenant, user: 'ops', roles: ['admin'] });

  async function register(who: ReturnType<typeof admin>, path: string, body: Record<string, unknown> = {}) {
    const res = await t
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(t.auth(who))
      .send({ url: `${base}${path}`, ...body })
      .expect(201);
    return res.body as { id: string; secret: string; url: string; events: string[] | null };
  }

  async function send(
    who: ReturnType<typeof admin>,
    extra: Record<string, unknown> = {},
    phone = '+12025550123',
  ) {
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: phone, message: 'Your appointment is tomorrow', ...extra })
      .expect(202);
    return res.body.message_id as string;
  }

  const deliveries = async (who: ReturnType<typeof admin>, query = '') =>
    (await t.http().get(`/api/sms/webhook-deliveries${query}`).set(t.auth(who)).expect(200)).body;

  it('POSTs message.sent and message.delivered, signed with the endpoint secret, without the body', async () => {
    const who = admin();
    const ep = await register(who, '/signed');
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const id = await send(who);
    await waitForStatus(t, who, id, 'delivered');
    const got = await eventually(
      async () => (receiver.on('/signed').length >= 2 ? receiver.on('/signed') : undefined),
      10_000,
      'two callbacks',
    );
    expect(got.map((r) => r.json.type).sort()).toEqual(['message.delivered', 'message.sent']);
    for (const r of got) {
      expect(verified(ep.secret, r)).toBe(true);
      expect(verified('whsec_wrong', r)).toBe(false);
      expect(
        verifyWebhookSignature(ep.secret, r.headers['x-sms-signature'] as string, r.raw + ' ', 300),
      ).toBe(false);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.json).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        created_at: expect.any(String),
        data: {
          message_id: id,
          tenant_id: who.tenant,
          phone_number: '+12025550123',
          error_code: null,
          channel: 'sms',
        },
      });
      expect(r.raw).not.toContain('Your appointment');
    }
    expect(got[0].json.id).not.toBe(got[1].json.id);
    const items = await eventually(async () => {
      const page = await deliveries(who, `?message_id=${id}&status=delivered`);
      return page.items.length === 2 ? page.items : undefined;
    });
    expect(items.map((d: { attempts: number }) => d.attempts)).toEqual([1, 1]);
  });

  it('sends message.failed with the error code', async () => {
    const who = admin();
    const ep = await register(who, '/failed', { events: ['message.failed'] });
    const id = await send(who, {}, '+15005550001');
    await waitForStatus(t, who, id, 'failed');
    const [r] = await eventually(async () =>
      receiver.on('/failed').length ? receiver.on('/failed') : undefined,
    );
    expect(verified(ep.secret, r)).toBe(true);
    expect(r.json).toMatchObject({
      type: 'message.failed',
      data: { message_id: id, error_code: 'sandbox:21211' },
    });
  });

  it('retries after a 500 with backoff and records each attempt', async () => {
    const who = admin();
    receiver.answer('/flaky', 500, 503);
    const ep = await register(who, '/flaky', { events: ['message.sent'] });
    const id = await send(who);
    const delivered = await eventually(async () => {
      const page = await deliveries(who, `?message_id=${id}&status=delivered`);
      return page.items.length ? page.items[0] : undefined;
    });
    expect(delivered).toMatchObject({
      attempts: 3,
      last_status_code: 200,
      endpoint_id: ep.id,
      last_error: null,
    });
    const detail = await t
      .http()
      .get(`/api/sms/webhook-deliveries/${delivered.id}`)
      .set(t.auth(who))
      .expect(200);
    expect(detail.body.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([
      500, 503, 200,
    ]);
    expect(JSON.stringify(detail.body)).not.toContain('must not store');
    const got = receiver.on('/flaky');
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.json.id)).size).toBe(1); // the same event each time
    expect(got.every((r) => verified(ep.secret, r))).toBe(true);
  });

  it('sends an event once after a 2xx: status flapping and more dispatcher runs add nothing; replay sends it again', async () => {
    const who = admin();
    await register(who, '/once', { events: ['message.sent'] });
    const id = await send(who);
    await waitForStatus(t, who, id, 'delivered');
    await eventually(async () => (receiver.on('/once').length === 1 ? true : undefined));
    // The same status again (a duplicate transition) must not write a second event.
    await ds.query(`UPDATE sms_messages SET status = 'sending' WHERE id = $1`, [id]);
    await ds.query(`UPDATE sms_messages SET status = 'sent' WHERE id = $1`, [id]);
    const dispatcher = t.get(WebhookDispatcher);
    for (let i = 0; i < 5; i++) await dispatcher.tick();
    const [{ n }] = await ds.query(
      'SELECT count(*)::int AS n FROM sms_webhook_deliveries WHERE message_id = $1',
      [id],
    );
    expect(n).toBe(1);
    expect(receiver.on('/once')).toHaveLength(1);

    const [d] = (await deliveries(who, `?message_id=${id}`)).items;
    const replay = await t
      .http()
      .post(`/api/sms/webhook-deliveries/${d.id}/replay`)
      .set(t.auth(who))
      .expect(202);
    expect(replay.body.status).toBe('pending');
    await eventually(async () => (receiver.on('/once').length === 2 ? true : undefined));
    const [first, second] = receiver.on('/once');
    expect(second.json.id).toBe(first.json.id);
    await eventually(async () => {
      const res = await t.http().get(`/api/sms/webhook-deliveries/${d.id}`).set(t.auth(who)).expect(200);
      return res.body.status === 'delivered' && res.body.attempt_log.length === 2 ? true : undefined;
    });
    // Replaying a pending one is refused.
    await ds.query(
      `UPDATE sms_webhook_deliveries SET status = 'pending', next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
      [d.id],
    );
    await t.http().post(`/api/sms/webhook-deliveries/${d.id}/replay`).set(t.auth(who)).expect(409);
  });

  it('per-message status_callback_url receives that message’s events, signed with the tenant secret', async () => {
    const who = admin();
    // events: [] — this endpoint receives nothing itself; its secret signs per-message callbacks.
    const ep = await register(who, '/tenant-quiet', { events: [] });
    const single = await send(who, { status_callback_url: `${base}/per-message` });
    const bulk = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({
        phone_numbers: ['+12025550124', '+12025550125'],
        message: 'hi',
        status_callback_url: `${base}/per-bulk`,
      })
      .expect(202);
    const templated = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550126',
        template_id: 'appointment_reminder',
        variables: { date: 'March 15', time: '2 PM', trainer_name: 'John', location: 'Room A' },
        status_callback_url: `${base}/per-templated`,
      })
      .expect(202);
    // At least the expected count, then exactly it: a missing or doubled event fails with the
    // counts seen, not a bare timeout.
    const expected = { '/per-message': 2, '/per-bulk': 4, '/per-templated': 2 };
    const seen = () => Object.fromEntries(Object.keys(expected).map((p) => [p, receiver.on(p).length]));
    await eventually(
      async () => (Object.entries(expected).every(([p, n]) => receiver.on(p).length >= n) ? true : undefined),
      30_000,
    ).catch(() => undefined);
    expect(seen()).toEqual(expected);
    const all = [
      ...receiver.on('/per-message'),
      ...receiver.on('/per-bulk'),
      ...receiver.on('/per-templated'),
    ];
    expect(all.every((r) => verified(ep.secret, r))).toBe(true);
    expect(receiver.on('/per-message').every((r) => r.json.data.message_id === single)).toBe(true);
    expect(new Set(receiver.on('/per-bulk').map((r) => r.json.data.message_id))).toEqual(
      new Set(bulk.body.message_ids),
    );
    expect(receiver.on('/per-templated')[0].json.data.message_id).toBe(templated.body.message_id);
    expect(receiver.on('/tenant-quiet')).toHaveLength(0);

    const scheduled = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550127',
        message: 'later',
        scheduled_time: new Date(Date.now() + 3600_000).toISOString(),
        status_callback_url: `${base}/per-schedule`,
      })
      .expect(202);
    const [row] = await ds.query('SELECT status_callback_url FROM sms_messages WHERE id = $1', [
      scheduled.body.message_id,
    ]);
    expect(row.status_callback_url).toBe(`${base}/per-schedule`);
  }, 60_000); // the 30 s wait for the callbacks fails with the counts seen, inside the test's time

  it('shows the secret only when created or rotated, never in lists, audit entries or the database in clear', async () => {
    const who = admin();
    const ep = await register(who, '/secret', { description: 'ops' });
    const list = await t.http().get('/api/sms/webhook-endpoints').set(t.auth(who)).expect(200);
    expect(list.body).toEqual([
      expect.objectContaining({
        id: ep.id,
        url: `${base}/secret`,
        description: 'ops',
        events: null,
        active: true,
      }),
    ]);
    expect(JSON.stringify(list.body)).not.toContain(ep.secret);
    expect(list.body[0]).not.toHaveProperty('secret');

    const rotated = await t
      .http()
      .post(`/api/sms/webhook-endpoints/${ep.id}/rotate-secret`)
      .set(t.auth(who))
      .expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(ep.secret);

    const [stored] = await ds.query('SELECT secret_ciphertext FROM sms_webhook_endpoints WHERE id = $1', [
      ep.id,
    ]);
    expect(stored.secret_ciphertext).not.toContain(rotated.body.secret.slice(6));
    const audit = await t
      .http()
      .get('/api/sms/audit?target_type=webhook_endpoint')
      .set(t.auth(who))
      .expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action).sort()).toEqual([
      'webhook_endpoint.create',
      'webhook_endpoint.rotate_secret',
    ]);
    const auditText = JSON.stringify(audit.body);
    expect(auditText).not.toContain(ep.secret);
    expect(auditText).not.toContain(rotated.body.secret);

    // The new secret signs from now on.
    const id = await send(who);
    const r = await eventually(async () => receiver.on('/secret').find((x) => x.json.data.message_id === id));
    expect(verified(rotated.body.secret, r)).toBe(true);
    expect(verified(ep.secret, r)).toBe(false);

    await t.http().delete(`/api/sms/webhook-endpoints/${ep.id}`).set(t.auth(who)).expect(204);
    expect((await t.http().get('/api/sms/webhook-endpoints').set(t.auth(who)).expect(200)).body).toEqual([]);
  });

  it("keeps tenants apart: another tenant's endpoint or delivery is 404, lists are per tenant, plain users 403", async () => {
    const a = admin();
    const b = admin();
    const ep = await register(a, '/tenant-a', { events: ['message.sent'] });
    const id = await send(a);
    await eventually(async () =>
      (await deliveries(a, '?status=delivered')).items.length ? true : undefined,
    );
    const [d] = (await deliveries(a)).items;
    expect(d.message_id).toBe(id);

    await t.http().delete(`/api/sms/webhook-endpoints/${ep.id}`).set(t.auth(b)).expect(404);
    await t.http().post(`/api/sms/webhook-endpoints/${ep.id}/rotate-secret`).set(t.auth(b)).expect(404);
    await t.http().get(`/api/sms/webhook-deliveries/${d.id}`).set(t.auth(b)).expect(404);
    await t.http().post(`/api/sms/webhook-deliveries/${d.id}/replay`).set(t.auth(b)).expect(404);
    expect((await t.http().get('/api/sms/webhook-endpoints').set(t.auth(b)).expect(200)).body).toEqual([]);
    expect((await deliveries(b)).items).toEqual([]);
    // Tenant B's own sends never reach tenant A's endpoint.
    const other = await send(b);
    await waitForStatus(t, b, other, 'delivered');
    expect(receiver.on('/tenant-a').every((r) => r.json.data.tenant_id === a.tenant)).toBe(true);

    const user = { tenant: a.tenant, user: 'someone' };
    await t.http().get('/api/sms/webhook-endpoints').set(t.auth(user)).expect(403);
    await t
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(t.auth(user))
      .send({ url: `${base}/x` })
      .expect(403);
    await t.http().get('/api/sms/webhook-deliveries').set(t.auth(user)).expect(403);
    await t.http().delete(`/api/sms/webhook-endpoints/not-a-uuid`).set(t.auth(a)).expect(404);
  });

  it('refuses bad endpoint input with a 400 naming the field', async () => {
    const who = admin();
    const bad = async (body: Record<string, unknown>, field: string) => {
      const res = await t.http().post('/api/sms/webhook-endpoints').set(t.auth(who)).send(body).expect(400);
      expect(res.body.details.map((x: { field: string }) => x.field)).toContain(field);
    };
    await bad({ url: 'not a url' }, 'url');
    await bad({ url: 'ftp://example.com/x' }, 'url');
    await bad({ url: 'https://user:pw@example.com/x' }, 'url');
    await bad({ url: `${base}/x`, events: ['message.nope'] }, 'events');
    await bad({ url: `${base}/x`, active: 'yes' }, 'active');
    expect((await t.http().get('/api/sms/webhook-endpoints').set(t.auth(who)).expect(200)).body).toEqual([]);
  });
});

describe('outbound webhooks without WEBHOOK_ALLOW_INSECURE (no SSRF)', () => {
  let api: TestApp;
  let worker: TestApp;
  let insecureApi: TestApp;
  let receiver: WebhookReceiver;
  let base: string;

  beforeAll(async () => {
    receiver = new WebhookReceiver();
    base = await receiver.start();
    // api role, the default (secure) settings: registration and accept checks.
    api = await createTestApp({ env: { ...FAST, APP_ROLE: 'api' } });
    // An api role that was allowed to register a loopback URL (a setting changed later)...
    insecureApi = await createTestApp({ env: { ...FAST, APP_ROLE: 'api', WEBHOOK_ALLOW_INSECURE: 'true' } });
    // ...and the worker, with the secure default, that must refuse it at send time.
    worker = await createTestApp({ env: { ...FAST, APP_ROLE: 'worker' } });
  });
  afterAll(async () => {
    await api.close();
    await insecureApi.close();
    await worker.close();
    await receiver.stop();
  });

  it.each([
    ['plain http', 'http://example.com/hook'],
    ['loopback', 'https://127.0.0.1/hook'],
    ['localhost', 'https://localhost/hook'],
    ['a private network', 'https://10.1.2.3/hook'],
    ['a private network (192.168)', 'https://192.168.0.10/hook'],
    ['CGNAT', 'https://100.64.0.1/hook'],
    ['cloud metadata', 'https://169.254.169.254/latest/meta-data'],
    ['IPv6 loopback', 'https://[::1]/hook'],
    ['IPv6 ULA', 'https://[fd00::1]/hook'],
    ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/hook'],
  ])('refuses %s at registration with a 400 naming url', async (_name, url) => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const res = await api
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(api.auth(who))
      .send({ url })
      .expect(400);
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'url' })]);
    expect((await api.http().get('/api/sms/webhook-endpoints').set(api.auth(who)).expect(200)).body).toEqual(
      [],
    );
  });

  it('refuses a private status_callback_url on send with a 400 naming the field, storing nothing', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const res = await api
      .http()
      .post('/api/sms/send')
      .set(api.auth(who))
      .send({ phone_number: '+12025550123', message: 'hi', status_callback_url: 'https://169.254.169.254/x' })
      .expect(400);
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'status_callback_url' })]);
    const history = await api.http().get('/api/sms/history').set(api.auth(who)).expect(200);
    expect(history.body.items).toEqual([]);
  });

  it('re-checks the address at send time and never calls a private one', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const url = base.replace('http://', 'https://') + '/private';
    await insecureApi
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(insecureApi.auth(who))
      .send({ url })
      .expect(201);
    const sent = await insecureApi
      .http()
      .post('/api/sms/send')
      .set(insecureApi.auth(who))
      .send({ phone_number: '+12025550123', message: 'hi' })
      .expect(202);
    const failed = await eventually(async () => {
      const page = await api
        .http()
        .get(`/api/sms/webhook-deliveries?message_id=${sent.body.message_id}&status=failed`)
        .set(api.auth(who))
        .expect(200);
      return page.body.items.length === 2 ? page.body.items : undefined;
    });
    for (const d of failed) {
      expect(d).toMatchObject({ attempts: 1, last_status_code: null });
      expect(d.last_error).toContain('private or reserved address');
    }
    expect(receiver.on('/private')).toHaveLength(0);
  });
});
