import { DataSource } from 'typeorm';
import { CallbacksService, WebhookDispatcher } from '../../src/callbacks';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';

const BASE_ENV = {
  WEBHOOK_ALLOW_INSECURE: 'true',
  WEBHOOK_DISPATCH_INTERVAL_MS: '20',
  WEBHOOK_RETRY_BASE_MS: '50',
};

const admin = (tenant = freshTenantId()): TokenOptions => ({ tenant, user: 'ops', roles: ['admin'] });

interface EndpointView {
  id: string;
  paused: boolean;
  paused_at: string | null;
  paused_reason: string | null;
  consecutive_failures: number;
  backoff_until: string | null;
}

/** What the tests of this file do through the API and the publish API, on one app. */
function helpers(app: () => TestApp, base: () => string) {
  const register = async (who: TokenOptions, path: string) =>
    (
      await app()
        .http()
        .post('/api/sms/webhook-endpoints')
        .set(app().auth(who))
        .send({ url: `${base()}${path}` })
        .expect(201)
    ).body as EndpointView;
  /** `n` events of the tenant, published in one transaction (as a feature publishes its events). */
  const publish = async (tenant: number, n: number, tag: string) => {
    const callbacks = app().get(CallbacksService);
    await app()
      .get(DataSource)
      .transaction(async (m) => {
        for (let i = 0; i < n; i++)
          await callbacks.publish(
            { tenantId: tenant, type: 'message.inbound', key: `${tag}:${i}`, data: { n: i } },
            m,
          );
      });
  };
  const endpoint = async (who: TokenOptions, id: string) => {
    const list = await app().http().get('/api/sms/webhook-endpoints').set(app().auth(who)).expect(200);
    return (list.body as EndpointView[]).find((e) => e.id === id) as EndpointView;
  };
  const deliveries = async (who: TokenOptions, status: string) =>
    (
      await app()
        .http()
        .get(`/api/sms/webhook-deliveries?status=${status}&limit=100`)
        .set(app().auth(who))
        .expect(200)
    ).body.items as { id: string; status: string }[];
  return { register, publish, endpoint, deliveries };
}

describe('fair callback delivery: a receiver that hangs delays no other endpoint', () => {
  let receiver: WebhookReceiver;
  let base: string;
  let t: TestApp;
  let worker: TestApp;
  const tenants: number[] = [];
  const { register, publish, deliveries } = helpers(
    () => t,
    () => base,
  );
  const tenant = () => {
    const who = admin();
    tenants.push(who.tenant);
    return who;
  };

  beforeAll(async () => {
    receiver = new WebhookReceiver();
    base = await receiver.start();
    // Two dispatchers on one database: the per-endpoint cap must hold across them.
    const env = { ...BASE_ENV, WEBHOOK_TIMEOUT_MS: '1500' };
    t = await createTestApp({ env });
    worker = await createTestApp({ env: { ...env, APP_ROLE: 'worker' } });
  });
  afterAll(async () => {
    // The backlogs stay behind otherwise, for the next test file's dispatchers to try.
    await t
      .get(DataSource)
      .query('DELETE FROM sms_webhook_deliveries WHERE tenant_id = ANY($1::int[])', [tenants]);
    await receiver.stop();
    await worker.close();
    await t.close();
  });

  it("delivers another tenant's callback within 1 s of its publish while 1,000 events wait on a hanging receiver", async () => {
    const a = tenant();
    const b = tenant();
    receiver.hang('/hang-a');
    await register(a, '/hang-a');
    await register(b, '/fast-b');
    await publish(a.tenant, 1000, 'backlog');
    await eventually(
      async () => (receiver.openOn('/hang-a') >= 2 ? true : undefined),
      10_000,
      "tenant A's receiver to hold requests",
    );

    const published = Date.now();
    await publish(b.tenant, 1, 'b');
    const [got] = await eventually(
      async () => (receiver.on('/fast-b').length ? receiver.on('/fast-b') : undefined),
      5_000,
      "tenant B's callback (behind 1,000 of tenant A's)",
    );
    expect(got.at - published).toBeLessThan(1000);
    expect(got.json.data).toMatchObject({ tenant_id: b.tenant });
    // Tenant A's events wait their turn: none given up.
    expect(await deliveries(a, 'failed')).toEqual([]);
  });

  it('never has more than WEBHOOK_ENDPOINT_CONCURRENCY (2) requests open on one endpoint, across two workers', async () => {
    const d = tenant();
    receiver.hang('/hang-d');
    await register(d, '/hang-d');
    await publish(d.tenant, 50, 'cap');
    // Each round of two ends by timeout (1.5 s) and the next two are claimed, by either worker.
    await eventually(
      async () => (receiver.on('/hang-d').length >= 8 ? true : undefined),
      30_000,
      'four rounds of attempts on the hanging endpoint',
    );
    expect(receiver.mostOpenOn('/hang-d')).toBe(2);
  }, 60_000);
});

describe('endpoint health: one that keeps timing out is backed off, then paused; replay or resume lifts it', () => {
  let receiver: WebhookReceiver;
  let base: string;
  let t: TestApp;
  const tenants: number[] = [];
  const { register, publish, endpoint, deliveries } = helpers(
    () => t,
    () => base,
  );
  const tenant = () => {
    const who = admin();
    tenants.push(who.tenant);
    return who;
  };

  beforeAll(async () => {
    receiver = new WebhookReceiver();
    base = await receiver.start();
    t = await createTestApp({
      env: {
        ...BASE_ENV,
        WEBHOOK_TIMEOUT_MS: '200',
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_ENDPOINT_BACKOFF_AFTER: '2',
        WEBHOOK_ENDPOINT_PAUSE_AFTER: '6',
      },
    });
  });
  afterAll(async () => {
    await t
      .get(DataSource)
      .query('DELETE FROM sms_webhook_deliveries WHERE tenant_id = ANY($1::int[])', [tenants]);
    await receiver.stop();
    await t.close();
  });

  async function pausedEndpoint(who: TokenOptions, id: string): Promise<EndpointView> {
    return eventually(
      async () => {
        const e = await endpoint(who, id);
        return e.paused ? e : undefined;
      },
      15_000,
      'the endpoint to be paused',
    );
  }

  it('pauses after repeated timeouts, keeps its deliveries pending and sends nothing more; a replay resumes it', async () => {
    const c = tenant();
    receiver.hang('/hang-c');
    const ep = await register(c, '/hang-c');
    expect(ep).toMatchObject({ paused: false, paused_at: null, consecutive_failures: 0 });
    await publish(c.tenant, 20, 'pause');

    const paused = await pausedEndpoint(c, ep.id);
    expect(paused.consecutive_failures).toBeGreaterThanOrEqual(6);
    expect(paused.paused_at).not.toBeNull();
    expect(paused.paused_reason).toMatch(/6 failed attempts in a row.*timeout after 200 ms/);
    expect(paused.backoff_until).toBeNull(); // paused until someone resumes it, not until a time
    // Kept, not failed.
    await eventually(async () => (receiver.openOn('/hang-c') === 0 ? true : undefined));
    expect(await deliveries(c, 'failed')).toEqual([]);
    expect(await deliveries(c, 'pending')).toHaveLength(20);
    // Paused: its due deliveries take no slot however often the dispatcher runs.
    const tried = receiver.on('/hang-c').length;
    const dispatcher = t.get(WebhookDispatcher);
    for (let i = 0; i < 3; i++) await dispatcher.runOnce();
    expect(receiver.on('/hang-c')).toHaveLength(tried);

    // A replay of one of its pending deliveries resumes it (and sends that one now).
    receiver.release('/hang-c');
    const [one] = await deliveries(c, 'pending');
    const replay = await t
      .http()
      .post(`/api/sms/webhook-deliveries/${one.id}/replay`)
      .set(t.auth(c))
      .expect(202);
    expect(replay.body.status).toBe('pending');
    expect(await endpoint(c, ep.id)).toMatchObject({
      paused: false,
      paused_at: null,
      paused_reason: null,
      backoff_until: null,
    });
    await eventually(
      async () => ((await deliveries(c, 'delivered')).length === 20 ? true : undefined),
      15_000,
      'every delivery of the resumed endpoint',
    );
    expect((await endpoint(c, ep.id)).consecutive_failures).toBe(0);
  }, 60_000);

  it('resumes on POST /webhook-endpoints/{id}/resume (audited); another tenant gets a 404', async () => {
    const e = tenant();
    const other = tenant();
    receiver.hang('/hang-e');
    const ep = await register(e, '/hang-e');
    await publish(e.tenant, 10, 'resume');
    await pausedEndpoint(e, ep.id);

    await t.http().post(`/api/sms/webhook-endpoints/${ep.id}/resume`).set(t.auth(other)).expect(404);
    expect((await endpoint(e, ep.id)).paused).toBe(true);
    receiver.release('/hang-e');
    const resumed = await t
      .http()
      .post(`/api/sms/webhook-endpoints/${ep.id}/resume`)
      .set(t.auth(e))
      .expect(200);
    expect(resumed.body).toMatchObject({ id: ep.id, paused: false, consecutive_failures: 0 });
    await eventually(
      async () => ((await deliveries(e, 'delivered')).length === 10 ? true : undefined),
      15_000,
      'every delivery of the resumed endpoint',
    );
    const audit = await t
      .http()
      .get('/api/sms/audit?target_type=webhook_endpoint')
      .set(t.auth(e))
      .expect(200);
    expect(audit.body.items.map((x: { action: string }) => x.action)).toContain('webhook_endpoint.resume');
    await t.http().post('/api/sms/webhook-endpoints/not-a-uuid/resume').set(t.auth(e)).expect(404);
  }, 60_000);
});
