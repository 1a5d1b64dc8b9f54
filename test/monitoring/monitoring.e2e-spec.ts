import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AlertsService } from '../../src/monitoring';
import { PricingService } from '../../src/messaging/policies/pricing.service';
import { verifyWebhookSignature } from '../../src/sdk';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { waitForStatus } from '../support/messages';
import { parsePrometheusText } from '../support/prometheus-text';
import { newMessages } from '../medium/factories';
import { allowCountries } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

const PHONE = '+12025550123';
const operator = { tenant: 1, roles: ['super_admin'] };

/** A finished message row of `tenant`, as the worker would leave it (cost, or only an estimate). */
async function insertMessage(
  ds: DataSource,
  tenant: number,
  m: { status: string; cost?: string | null; estimate?: string | null; createdAt?: Date },
): Promise<void> {
  await ds.query(
    `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, status,
                               segments, encoding, currency, estimated_cost, cost, created_at, provider)
     VALUES ($1, $2, 'u1', $3, 'x', 'general_notification', $4, 1, 'GSM-7', 'USD', $5, $6, $7, 'sandbox')`,
    [randomUUID(), tenant, PHONE, m.status, m.estimate ?? null, m.cost ?? null, m.createdAt ?? new Date()],
  );
}

async function setSettings(t: TestApp, tenant: number, settings: Record<string, unknown>): Promise<void> {
  const created = await t
    .http()
    .post('/api/sms/tenants')
    .set(t.auth(operator))
    .send({ id: tenant, name: `tenant ${tenant}`, settings });
  if (created.status === 201) return;
  await t.http().patch(`/api/sms/tenants/${tenant}`).set(t.auth(operator)).send({ settings }).expect(200);
}

describe('monitoring: metrics, provider health, alerts, spend cap', () => {
  let t: TestApp;
  let ds: DataSource;
  let alerts: AlertsService;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        SANDBOX_DELIVERY_DELAY_MS: '10',
        WEBHOOK_ALLOW_INSECURE: 'true',
        WEBHOOK_DISPATCH_INTERVAL_MS: '20',
        WEBHOOK_RETRY_BASE_MS: '50',
      },
    });
    ds = t.get(DataSource);
    alerts = t.get(AlertsService);
  });
  afterAll(() => t.close());

  it('GET /metrics is Prometheus text with message, provider, queue, circuit and HTTP metrics, no tenant or phone in labels', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const sent = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: PHONE, message: 'hi' });
    expect(sent.status).toBe(202);
    await waitForStatus(t, who, sent.body.message_id, 'delivered');
    await t.http().get(`/api/sms/messages/${sent.body.message_id}/status`).set(t.auth(who)).expect(200);

    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const { types, samples } = parsePrometheusText(res.text);
    expect(types).toMatchObject({
      sms_messages: 'gauge',
      sms_provider_request_duration_seconds: 'histogram',
      sms_provider_errors_total: 'counter',
      sms_queue_jobs: 'gauge',
      sms_provider_circuit_state: 'gauge',
      sms_http_request_duration_seconds: 'histogram',
      sms_process_cpu_user_seconds_total: 'counter',
    });
    const find = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(find('sms_messages', { provider: 'sandbox', status: 'delivered' })?.value).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      find('sms_provider_request_duration_seconds_count', { provider: 'sandbox', outcome: 'ok' })?.value,
    ).toBeGreaterThanOrEqual(1);
    expect(find('sms_provider_circuit_state', { provider: 'sandbox' })?.value).toBe(0);
    // One Redis is one master, answering.
    expect(find('sms_redis_masters', { state: 'up' })?.value).toBe(1);
    expect(find('sms_redis_masters', { state: 'down' })?.value).toBe(0);
    for (const state of ['waiting', 'active', 'delayed', 'failed'])
      for (const queue of ['sms-delivery', 'sms-delivery-campaigns', 'sms-campaigns', 'sms-jobs'])
        expect(find('sms_queue_jobs', { queue, state })).toBeDefined();
    // Route patterns, never concrete ids.
    expect(
      find('sms_http_request_duration_seconds_count', {
        route: '/api/sms/messages/:id/status',
        status: '200',
        method: 'GET',
      }),
    ).toBeDefined();
    expect(
      find('sms_http_request_duration_seconds_count', { route: '/api/sms/send', status: '202' }),
    ).toBeDefined();
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    for (const v of labelValues) {
      expect(v).not.toContain(PHONE.slice(2));
      expect(v).not.toContain(String(who.tenant));
      expect(v).not.toContain(sent.body.message_id);
    }
  });

  it('GET /health/providers shows each circuit, the last success and the recent error rate', async () => {
    const res = await t.http().get('/health/providers').expect(200);
    expect(res.body.providers).toEqual([
      {
        provider: 'sandbox',
        circuit: { state: 'closed', consecutive_failures: 0, opened_at: null },
        last_success_at: expect.any(String),
        last_error: null,
        recent: { window_seconds: 300, calls: expect.any(Number), errors: 0, error_rate: 0 },
      },
    ]);
  });

  it('raises each cost threshold exactly once per month when several evaluations race, from actual cost else estimate', async () => {
    const tenant = freshTenantId();
    await setSettings(t, tenant, { cost_alert_threshold: 1 });
    await t
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(t.auth({ tenant, roles: ['admin'] }))
      .send({ url: 'http://127.0.0.1:9/hooks', events: ['alert.raised'] })
      .expect(201);
    // 0.799999 of 1.00: below 80 %.
    await insertMessage(ds, tenant, { status: 'delivered', cost: '0.333333', estimate: '9' });
    await insertMessage(ds, tenant, { status: 'queued', estimate: '0.466666' });
    await insertMessage(ds, tenant, { status: 'canceled', estimate: '5' }); // never sent: not counted
    await Promise.all(Array.from({ length: 6 }, () => alerts.evaluateCost(new Date(), tenant)));
    const kinds = async () =>
      (
        await ds.query(
          `SELECT threshold_pct FROM sms_alerts WHERE tenant_id = $1 AND kind = 'cost_threshold' ORDER BY 1`,
          [tenant],
        )
      ).map((r: { threshold_pct: number }) => r.threshold_pct);
    expect(await kinds()).toEqual([]);

    await insertMessage(ds, tenant, { status: 'sending', estimate: '0.000001' }); // exactly 0.8
    const raised = await Promise.all(
      Array.from({ length: 8 }, () => alerts.evaluateCost(new Date(), tenant)),
    );
    expect(raised.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await kinds()).toEqual([80]);

    await insertMessage(ds, tenant, { status: 'failed', cost: '0.2' }); // 1.000000
    const again = await Promise.all(Array.from({ length: 8 }, () => alerts.evaluateCost(new Date(), tenant)));
    expect(again.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await kinds()).toEqual([80, 100]);
    const [row] = await ds.query(
      `SELECT details FROM sms_alerts WHERE tenant_id = $1 AND threshold_pct = 100`,
      [tenant],
    );
    expect(row.details).toMatchObject({ month_to_date: '1', threshold: '1', currency: 'USD' });
    // Each alert reached the platform's webhooks once, however many evaluations raced.
    const published: { kind: string }[] = await ds.query(
      `SELECT payload->'data'->>'kind' AS kind FROM sms_webhook_deliveries
        WHERE tenant_id = $1 AND event_type = 'alert.raised'`,
      [tenant],
    );
    expect(published.map((p) => p.kind)).toEqual(['cost_threshold', 'cost_threshold']);
  });

  it('raises a failure-rate alert once when over the rate across the minimum of messages in 15 minutes', async () => {
    const tenant = freshTenantId();
    await setSettings(t, tenant, {});
    for (let i = 0; i < 15; i++) await insertMessage(ds, tenant, { status: 'delivered' });
    for (let i = 0; i < 4; i++) await insertMessage(ds, tenant, { status: 'failed' }); // 4 of 19: below the minimum 20
    await alerts.evaluateFailures(new Date());
    const count = async () =>
      Number(
        (
          await ds.query(`SELECT count(*) FROM sms_alerts WHERE tenant_id = $1 AND kind = 'failure_rate'`, [
            tenant,
          ])
        )[0].count,
      );
    expect(await count()).toBe(0);
    await insertMessage(ds, tenant, { status: 'undelivered' }); // 5 of 20 = 25 % > 20 %
    await insertMessage(ds, tenant, { status: 'failed', createdAt: new Date(Date.now() - 16 * 60_000) }); // outside
    await Promise.all(Array.from({ length: 6 }, () => alerts.evaluateFailures(new Date())));
    expect(await count()).toBe(1);
  });

  it('refuses a send with 402 once monthly_spend_cap is reached, storing nothing', async () => {
    const tenant = freshTenantId();
    const who = { tenant, roles: ['admin'] };
    await setSettings(t, tenant, { monthly_spend_cap: 0.5 });
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: PHONE, message: 'under' })
      .expect(202);
    await insertMessage(ds, tenant, { status: 'delivered', cost: '0.5' });
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: PHONE, message: 'over' });
    expect(res.status).toBe(402);
    expect(res.body).toEqual({
      statusCode: 402,
      error: 'Payment Required',
      message: expect.stringContaining('monthly spend cap reached'),
      details: [
        {
          rule: 'monthly_spend_cap',
          errors: [res.body.message],
          cap: '0.5',
          month_to_date: expect.any(String),
          estimated_cost: expect.any(String),
          currency: 'USD',
        },
      ],
    });
    const [{ count }] = await ds.query(
      `SELECT count(*) FROM sms_messages WHERE tenant_id = $1 AND body = 'over'`,
      [tenant],
    );
    expect(Number(count)).toBe(0);
  });

  it('spend cap under concurrency: of concurrent sends and a bulk, exactly those that fit are stored', async () => {
    // Belgian numbers, priced for the sandbox here alone (no other suite sends to them).
    await ds.query(
      `INSERT INTO sms_prices (provider, country, price_per_segment) VALUES ('sandbox', 'BE', 0.05)
       ON CONFLICT DO NOTHING`,
    );
    await t.get(PricingService).reload();
    const be = (i: number) => `+324701${String(i).padStart(5, '0')}`;
    const tenant = freshTenantId();
    const who = { tenant, roles: ['admin'] };
    await allowCountries(t, tenant, ['BE'], { monthly_spend_cap: 100 });
    // Every other single send with an Idempotency-Key: those share the batches too.
    const send = (i: number, message: string) => {
      const req = t.http().post('/api/sms/send').set(t.auth(who));
      return (i % 2 === 0 ? req.set('Idempotency-Key', `race-${i}`) : req).send({
        phone_number: be(i),
        message,
      });
    };
    const first = await send(0, 'price').expect(202);
    const micros = Math.round(Number(first.body.estimated_cost) * 1e6);
    expect(micros).toBeGreaterThan(0);
    // Room for exactly 6 more messages: 12 single sends and a bulk of 2 race for it.
    await allowCountries(t, tenant, ['BE'], { monthly_spend_cap: (micros * 7) / 1e6 });
    const [bulk, ...singles] = await Promise.all([
      t
        .http()
        .post('/api/sms/send-bulk')
        .set(t.auth(who))
        .send({ phone_numbers: [be(100), be(101)], message: 'race' }),
      ...Array.from({ length: 12 }, (_, i) => send(i + 1, 'race')),
    ]);
    const all = [bulk, ...singles];
    expect(all.map((r) => r.status).filter((s) => s !== 202 && s !== 402)).toEqual([]);
    const stored = singles.filter((r) => r.status === 202).length + (bulk.status === 202 ? 2 : 0);
    // 6, or 5 when the bulk met the one share left (all or nothing).
    expect([5, 6]).toContain(stored);
    for (const r of all.filter((x) => x.status === 402)) {
      expect(r.body.error).toBe('Payment Required');
      expect(r.body.details).toEqual([expect.objectContaining({ rule: 'monthly_spend_cap' })]);
      expect(Number(r.body.details[0].cap)).toBeCloseTo((micros * 7) / 1e6, 6);
    }
    const [{ count }] = await ds.query(
      `SELECT count(*)::int AS count FROM sms_messages WHERE tenant_id = $1 AND body = 'race'`,
      [tenant],
    );
    expect(count).toBe(stored);
    // A keyed send replays what it was answered: its message, or (its key released, the room
    // still full) the refusal again.
    for (const i of [2, 4, 6, 8, 10, 12]) {
      const was = singles[i - 1];
      if (was.status !== 202 && stored !== 6) continue;
      const replay = await send(i, 'race');
      expect(replay.status).toBe(was.status);
      if (was.status === 202) {
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.body.message_id).toBe(was.body.message_id);
      }
    }
    // The cap is not passed by what follows either.
    const after = await send(201, 'after');
    expect(after.status).toBe(stored === 6 ? 402 : 202);
  });

  it('GET /api/sms/alerts: a tenant admin sees only its tenant, a user is refused, a super_admin sees all', async () => {
    const a = freshTenantId();
    const b = freshTenantId();
    await setSettings(t, a, {});
    await setSettings(t, b, {});
    for (const tenant of [a, b])
      await alerts.raise({
        tenantId: tenant,
        kind: 'failure_rate',
        period: `test-${tenant}`,
        message: `m${tenant}`,
        details: {},
      });
    await alerts.raise({
      tenantId: a,
      kind: 'failure_rate',
      period: `test2-${a}`,
      message: 'second',
      details: {},
    });
    const adminA = t.auth({ tenant: a, roles: ['admin'] });
    const page1 = await t.http().get('/api/sms/alerts?limit=1').set(adminA).expect(200);
    expect(page1.body.items).toHaveLength(1);
    expect(page1.body.items[0]).toMatchObject({
      tenant_id: a,
      message: 'second',
      deliveries: { pending: 0, delivered: 0, failed: 0 },
    });
    const page2 = await t
      .http()
      .get(`/api/sms/alerts?limit=1&cursor=${page1.body.next_cursor}`)
      .set(adminA)
      .expect(200);
    expect(page2.body.items.map((x: { tenant_id: number }) => x.tenant_id)).toEqual([a]);
    expect(page2.body.next_cursor).toBeNull();
    await t.http().get(`/api/sms/alerts?tenant_id=${b}`).set(adminA).expect(403);
    await t
      .http()
      .get('/api/sms/alerts')
      .set(t.auth({ tenant: a }))
      .expect(403);
    await t.http().get('/api/sms/alerts?cursor=abc').set(adminA).expect(400);
    const all = await t.http().get(`/api/sms/alerts?tenant_id=${b}`).set(t.auth(operator)).expect(200);
    expect(all.body.items.map((x: { message: string }) => x.message)).toEqual([`m${b}`]);
  });

  describe('alerts through the callbacks outbox', () => {
    let receiver: WebhookReceiver;
    let base: string;
    beforeAll(async () => {
      receiver = new WebhookReceiver();
      base = await receiver.start();
    });
    afterAll(() => receiver.stop());

    const admin = (tenant: number) => t.auth({ tenant, roles: ['admin'] });
    const register = async (tenant: number, path: string, events: string[]) =>
      (
        await t
          .http()
          .post('/api/sms/webhook-endpoints')
          .set(admin(tenant))
          .send({ url: `${base}${path}`, events })
          .expect(201)
      ).body as { id: string; secret: string };

    it('delivers an alert to the endpoint subscribed to alert.raised, signed t=…,v1=…, retried, logged and replayable', async () => {
      const tenant = freshTenantId();
      await setSettings(t, tenant, { cost_alert_threshold: 10 });
      const path = `/alerts-${tenant}`;
      const other = `/messages-${tenant}`;
      const ep = await register(tenant, path, ['alert.raised']);
      await register(tenant, other, ['message.delivered']);
      receiver.answer(path, 500); // the first attempt fails: the callbacks retry policy takes over
      await insertMessage(ds, tenant, { status: 'delivered', cost: '8' });
      expect(await alerts.evaluateCost(new Date(), tenant)).toBe(1);

      const got = await eventually(
        async () => (receiver.on(path).length >= 2 ? receiver.on(path) : undefined),
        10_000,
        'the alert, retried after a 500',
      );
      const [{ id: alertId }] = await ds.query(
        `SELECT id FROM sms_alerts WHERE tenant_id = $1 AND kind = 'cost_threshold'`,
        [tenant],
      );
      for (const r of got) {
        expect(r.headers['x-sms-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        expect(verifyWebhookSignature(ep.secret, r.headers['x-sms-signature'] as string, r.raw)).toBe(true);
        expect(verifyWebhookSignature('whsec_wrong', r.headers['x-sms-signature'] as string, r.raw)).toBe(
          false,
        );
        expect(r.headers['x-sms-event-type']).toBe('alert.raised');
        expect(r.json).toEqual({
          id: got[0].json.id,
          type: 'alert.raised',
          created_at: expect.any(String),
          data: {
            tenant_id: tenant,
            alert_id: alertId,
            kind: 'cost_threshold',
            period: new Date().toISOString().slice(0, 7),
            threshold_pct: 80,
            message: expect.stringContaining('reached 80%'),
            details: expect.objectContaining({ threshold_pct: 80, month_to_date: '8', threshold: '10' }),
          },
        });
      }
      expect(receiver.on(other)).toEqual([]);

      const log = await eventually(async () => {
        const res = await t
          .http()
          .get('/api/sms/webhook-deliveries?event_type=alert.raised')
          .set(admin(tenant))
          .expect(200);
        return res.body.items[0]?.status === 'delivered' ? res.body.items : undefined;
      });
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ endpoint_id: ep.id, event_id: got[0].json.id, attempts: 2 });
      const detail = await t
        .http()
        .get(`/api/sms/webhook-deliveries/${log[0].id}`)
        .set(admin(tenant))
        .expect(200);
      expect(detail.body.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([500, 200]);
      const listed = await t.http().get('/api/sms/alerts').set(admin(tenant)).expect(200);
      expect(listed.body.items).toEqual([
        expect.objectContaining({
          id: alertId,
          kind: 'cost_threshold',
          threshold_pct: 80,
          deliveries: { pending: 0, delivered: 1, failed: 0 },
        }),
      ]);
      expect(listed.body.items[0]).not.toHaveProperty('webhook_status');

      await t.http().post(`/api/sms/webhook-deliveries/${log[0].id}/replay`).set(admin(tenant)).expect(202);
      const replayed = await eventually(
        async () => (receiver.on(path).length >= 3 ? receiver.on(path)[2] : undefined),
        10_000,
        'the replay',
      );
      expect(replayed.json.id).toBe(got[0].json.id);
      expect(
        verifyWebhookSignature(ep.secret, replayed.headers['x-sms-signature'] as string, replayed.raw),
      ).toBe(true);
    });

    it('raises an alert and publishes alert.raised in one transaction: both or neither, once', async () => {
      const tenant = freshTenantId();
      await setSettings(t, tenant, {});
      await register(tenant, `/atomic-${tenant}`, ['alert.raised']);
      const alert = {
        tenantId: tenant,
        kind: 'failure_rate' as const,
        period: `atomic-${tenant}`,
        message: 'm',
        details: {},
      };
      const count = async (sql: string) => Number((await ds.query(sql, [tenant]))[0].count);
      const alertRows = () => count('SELECT count(*) FROM sms_alerts WHERE tenant_id = $1');
      const outboxRows = () =>
        count(
          `SELECT count(*) FROM sms_webhook_deliveries WHERE tenant_id = $1 AND event_type = 'alert.raised'`,
        );

      // The outbox refuses this tenant's rows (a fault injected in PostgreSQL): the alert is not kept either.
      const fn = `refuse_outbox_${tenant}`;
      await ds.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.tenant_id = ${tenant} THEN RAISE EXCEPTION 'outbox refused'; END IF; RETURN NEW; END $$`);
      await ds.query(
        `CREATE TRIGGER ${fn} BEFORE INSERT ON sms_webhook_deliveries FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
      );
      try {
        await expect(alerts.raise(alert)).rejects.toThrow(/outbox refused/);
      } finally {
        await ds.query(`DROP TRIGGER ${fn} ON sms_webhook_deliveries`);
        await ds.query(`DROP FUNCTION ${fn}()`);
      }
      expect(await alertRows()).toBe(0);
      expect(await outboxRows()).toBe(0);

      const raced = await Promise.all(Array.from({ length: 6 }, () => alerts.raise(alert)));
      expect(raced.filter(Boolean)).toHaveLength(1);
      expect(await alertRows()).toBe(1);
      expect(await outboxRows()).toBe(1);
    });

    it('refuses the alert_webhook_url setting with a 400 naming the endpoint API, changing nothing', async () => {
      const tenant = freshTenantId();
      const created = await t
        .http()
        .post('/api/sms/tenants')
        .set(t.auth(operator))
        .send({
          id: tenant,
          name: 'x',
          settings: { alert_webhook_url: `${base}/old`, cost_alert_threshold: 5 },
        });
      expect(created.status).toBe(400);
      expect(created.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.stringContaining('POST /api/sms/webhook-endpoints'),
        details: [{ field: 'settings.alert_webhook_url', errors: [expect.stringContaining('alert.raised')] }],
      });
      await t.http().get(`/api/sms/tenants/${tenant}`).set(t.auth(operator)).expect(404);

      await setSettings(t, tenant, { cost_alert_threshold: 5 });
      for (const value of [`${base}/old`, null]) {
        const res = await t
          .http()
          .patch(`/api/sms/tenants/${tenant}`)
          .set(t.auth(operator))
          .send({ name: 'renamed', settings: { alert_webhook_url: value, cost_alert_threshold: 7 } });
        expect(res.status).toBe(400);
        expect(res.body.details).toEqual([
          {
            field: 'settings.alert_webhook_url',
            errors: [expect.stringContaining('/api/sms/webhook-endpoints')],
          },
        ]);
      }
      const after = await t.http().get(`/api/sms/tenants/${tenant}`).set(t.auth(operator)).expect(200);
      expect(after.body).toMatchObject({ name: `tenant ${tenant}`, settings: { cost_alert_threshold: 5 } });
      expect(after.body.settings).not.toHaveProperty('alert_webhook_url');
    });

    it('answers the retired alert signing-secret route with 410 naming the endpoint rotate route', async () => {
      const res = await t
        .http()
        .post('/api/sms/alerts/signing-secret')
        .set(admin(freshTenantId()))
        .expect(410);
      expect(res.body).toEqual({
        statusCode: 410,
        error: 'Gone',
        message: expect.stringContaining('POST /api/sms/webhook-endpoints/{id}/rotate-secret'),
      });
    });
  });
});

describe('metrics with METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN: 'scrape-token-0123456789' } });
  });
  afterAll(() => t.close());

  // First of this app's scrapes: the message counts are cached 10 s after one.
  it('labels carry no name a tenant chose: every custom message type is `custom`', async () => {
    const ds = t.get(DataSource);
    const tenant = freshTenantId();
    await newMessages(ds, { tenant, type: 'acme_secret_launch', n: 2 });
    await newMessages(ds, { tenant, type: 'acme_other_plan', n: 1 });
    const res = await t
      .http()
      .get('/metrics')
      .set('Authorization', 'Bearer scrape-token-0123456789')
      .expect(200);
    const { samples } = parsePrometheusText(res.text);
    const values = samples.flatMap((s) => Object.values(s.labels));
    expect(values.filter((v) => v.startsWith('acme_'))).toEqual([]);
    const custom = samples.find(
      (s) =>
        s.name === 'sms_messages' &&
        s.labels.type === 'custom' &&
        s.labels.status === 'queued' &&
        s.labels.provider === 'none',
    );
    expect(custom?.value).toBeGreaterThanOrEqual(3);
  });

  it('answers 401 without the bearer token and the metrics with it', async () => {
    await t.http().get('/metrics').expect(401);
    await t.http().get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
    const res = await t
      .http()
      .get('/metrics')
      .set('Authorization', 'Bearer scrape-token-0123456789')
      .expect(200);
    expect(parsePrometheusText(res.text).types.sms_queue_jobs).toBe('gauge');
  });
});
