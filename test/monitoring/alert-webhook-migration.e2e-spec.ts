import { DataSource } from 'typeorm';
import { AlertsOnCallbacks1764002300000 } from '../../migrations/1764002300000-alerts-on-callbacks';
import { MIGRATIONS } from '../../migrations';
import { MigratedSecretSealer } from '../../src/callbacks/migrated-secrets';
import { dropDatabase, ensureDatabase, migrate } from '../../src/database/bootstrap';
import { dataSourceOptions } from '../../src/database/data-source';
import { AlertsService } from '../../src/monitoring';
import { verifyWebhookSignature } from '../../src/sdk';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { testDatabaseUrl, testRunId } from '../setup/test-env';
import { createTestApp, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/**
 * The upgrade of a database where tenants used `alert_webhook_url`: the migration moves the setting
 * to an endpoint subscribed to alert.raised with the same secret and the pending alert into the
 * outbox; `down` restores the schema; the started service seals the secret and delivers the alert,
 * signed t=…,v1=… with the secret the receiver already had. Its own database.
 */
const MIGRATION = MIGRATIONS.indexOf(AlertsOnCallbacks1764002300000);
const KEPT = 'whsec_kept-alert-secret-0123456789abcdefghijklmnop';
const A = 101; // alert_webhook_url, a secret, a pending and a delivered alert
const B = 102; // alert_webhook_url, never a secret
const C = 103; // alert_webhook_url: null
const D = 104; // alert_webhook_url already an endpoint receiving every event

describe('migration 1764002300000: alert webhooks become callback endpoints', () => {
  const url = testDatabaseUrl(`${testRunId()}_alertmig`);
  let receiver: WebhookReceiver;
  let base: string;
  let ds: DataSource;
  let t: TestApp | undefined;
  const ids: { pending?: string; delivered?: string } = {};

  /** A data source that knows the migrations up to `end` (exclusive), so later ones never interfere. */
  const upTo = (end: number) =>
    new DataSource({ ...dataSourceOptions(url, 2), migrations: MIGRATIONS.slice(0, end) });
  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
    ds.query(sql, params);
  const exists = async (table: string) => (await q(`SELECT to_regclass($1) AS r`, [table]))[0].r !== null;
  const endpoints = (tenant: number) =>
    q<{
      id: string;
      url: string;
      events: string[] | null;
      secret_unsealed: string | null;
      secret_ciphertext: string | null;
    }>(
      `SELECT id, url, events, secret_unsealed, secret_ciphertext FROM sms_webhook_endpoints
        WHERE tenant_id = $1 ORDER BY created_at, id`,
      [tenant],
    );

  beforeAll(async () => {
    expect(MIGRATION).toBeGreaterThan(0);
    receiver = new WebhookReceiver();
    base = await receiver.start();
    await ensureDatabase(url);
    const before = upTo(MIGRATION);
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    await before.destroy();
    ds = new DataSource(dataSourceOptions(url, 2));
    await ds.initialize();

    // The world before: alert webhooks with their own secrets, attempts and statuses.
    for (const [id, settings] of [
      [A, { alert_webhook_url: `${base}/a`, cost_alert_threshold: 10 }],
      [B, { alert_webhook_url: `${base}/b` }],
      [C, { alert_webhook_url: null, rate_limit: 5 }],
      [D, { alert_webhook_url: `${base}/d` }],
    ] as const)
      await q(`INSERT INTO tenants (id, name, settings) VALUES ($1, $2, $3)`, [id, `tenant ${id}`, settings]);
    await q(`INSERT INTO sms_alert_secrets (tenant_id, secret) VALUES ($1, $2)`, [A, KEPT]);
    await q(`INSERT INTO sms_alert_secrets (tenant_id, secret) VALUES ($1, 'whsec_d-secret')`, [D]);
    await q(
      `INSERT INTO sms_webhook_endpoints (id, tenant_id, url, secret_ciphertext, events)
       VALUES (gen_random_uuid(), $1, $2, 'v1.never.opened.here', NULL)`,
      [D, `${base}/d`],
    );
    const raise = async (period: string, status: string) =>
      (
        await q<{ id: string }>(
          `INSERT INTO sms_alerts (tenant_id, kind, period, threshold_pct, message, details, webhook_status,
                                   webhook_attempts, next_attempt_at)
           VALUES ($1, 'cost_threshold', $2, 80, 'month-to-date cost reached 80%', '{"threshold": "10"}', $3, 1, now())
           RETURNING id`,
          [A, period, status],
        )
      )[0].id;
    ids.pending = await raise('2026-01', 'pending');
    ids.delivered = await raise('2025-12', 'delivered');
    await q(
      `INSERT INTO sms_alert_deliveries (alert_id, attempt, status_code, duration_ms) VALUES ($1, 1, 500, 3)`,
      [ids.pending],
    );
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await ds?.destroy();
    await receiver.stop();
    if (process.env.KEEP_TEST_DB !== 'true') await dropDatabase(url);
  });

  async function expectMigrated(): Promise<void> {
    const [a] = await endpoints(A);
    expect(a).toMatchObject({
      url: `${base}/a`,
      events: ['alert.raised'],
      secret_unsealed: KEPT,
      secret_ciphertext: null,
    });
    const b = await endpoints(B);
    expect(b).toHaveLength(1);
    expect(b[0].secret_unsealed).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(await endpoints(C)).toEqual([]);
    expect((await endpoints(D)).map((e) => e.events)).toEqual([null]); // no second endpoint at that URL
    const settings = await q<{ id: number; settings: Record<string, unknown> }>(
      'SELECT id, settings FROM tenants WHERE id = ANY($1) ORDER BY id',
      [[A, B, C, D]],
    );
    expect(settings.map((s) => s.settings)).toEqual([
      { cost_alert_threshold: 10 },
      {},
      { rate_limit: 5 },
      {},
    ]);
    const outbox = await q<{
      event_key: string;
      status: string;
      endpoint_id: string;
      payload: { type: string; data: unknown };
    }>(`SELECT event_key, status, endpoint_id, payload FROM sms_webhook_deliveries WHERE tenant_id = $1`, [
      A,
    ]);
    expect(outbox).toEqual([
      {
        event_key: `alert.raised:${ids.pending}`,
        status: 'pending',
        endpoint_id: a.id,
        payload: expect.objectContaining({
          type: 'alert.raised',
          data: {
            tenant_id: A,
            alert_id: ids.pending,
            kind: 'cost_threshold',
            period: '2026-01',
            threshold_pct: 80,
            message: 'month-to-date cost reached 80%',
            details: { threshold: '10' },
          },
        }),
      },
    ]);
    expect(await exists('sms_alert_secrets')).toBe(false);
    expect(await exists('sms_alert_deliveries')).toBe(false);
    const columns = await q<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'sms_alerts'`,
    );
    expect(columns.map((c) => c.column_name)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(webhook_status|webhook_attempts|next_attempt_at)$/)]),
    );
  }

  it('moves each alert_webhook_url to an endpoint with its secret and the pending alert into the outbox; down restores the old schema', async () => {
    const mig = upTo(MIGRATION + 1);
    await mig.initialize();
    try {
      await mig.runMigrations({ transaction: 'each' });
      await expectMigrated();
      const bSecret = (await endpoints(B))[0].secret_unsealed;

      await mig.undoLastMigration({ transaction: 'each' });
      expect(await exists('sms_alert_secrets')).toBe(true);
      expect(await exists('sms_alert_deliveries')).toBe(true);
      // D's alerts went to its endpoint already, and stay there: its old setting and secret do not come back.
      expect(await q('SELECT tenant_id, secret FROM sms_alert_secrets ORDER BY tenant_id')).toEqual([
        { tenant_id: A, secret: KEPT },
        { tenant_id: B, secret: bSecret },
      ]);
      expect(
        await q('SELECT id, settings FROM tenants WHERE id = ANY($1) ORDER BY id', [[A, B, C, D]]),
      ).toEqual([
        { id: A, settings: { alert_webhook_url: `${base}/a`, cost_alert_threshold: 10 } },
        { id: B, settings: { alert_webhook_url: `${base}/b` } },
        { id: C, settings: { rate_limit: 5 } },
        { id: D, settings: {} },
      ]);
      expect(
        await q('SELECT id, webhook_status FROM sms_alerts WHERE tenant_id = $1 ORDER BY id', [A]),
      ).toEqual([
        { id: ids.pending, webhook_status: 'pending' },
        { id: ids.delivered, webhook_status: 'none' },
      ]);
      expect(await q('SELECT 1 FROM sms_webhook_endpoints WHERE tenant_id = ANY($1)', [[A, B]])).toEqual([]);
      expect(await q('SELECT 1 FROM sms_webhook_deliveries WHERE tenant_id = $1', [A])).toEqual([]);
      const [{ is_nullable }] = await q<{ is_nullable: string }>(
        `SELECT is_nullable FROM information_schema.columns
          WHERE table_name = 'sms_webhook_endpoints' AND column_name = 'secret_ciphertext'`,
      );
      expect(is_nullable).toBe('NO');

      // Up again, from the restored data: the same result (B keeps the secret it was given).
      await mig.runMigrations({ transaction: 'each' });
      await expectMigrated();
      expect((await endpoints(B))[0].secret_unsealed).toBe(bSecret);
    } finally {
      await mig.destroy();
    }
  }, 60_000);

  it('the started service seals every migrated secret and delivers the pending alert signed t=…,v1=… with the same secret', async () => {
    await migrate(url); // and whatever migrations come after this one
    t = await createTestApp({
      env: { DATABASE_URL: url, WEBHOOK_ALLOW_INSECURE: 'true', WEBHOOK_DISPATCH_INTERVAL_MS: '20' },
    });
    expect(await q(`SELECT id FROM sms_webhook_endpoints WHERE secret_unsealed IS NOT NULL`)).toEqual([]);
    const [a] = await endpoints(A);
    expect(a.secret_ciphertext).toMatch(/^v1\./);
    expect(a.secret_ciphertext).not.toContain(KEPT.slice(6));

    const [got] = await eventually(
      async () => (receiver.on('/a').length > 0 ? receiver.on('/a') : undefined),
      10_000,
      'the pending alert',
    );
    expect(got.json).toMatchObject({ type: 'alert.raised', data: { alert_id: ids.pending, tenant_id: A } });
    expect(verifyWebhookSignature(KEPT, got.headers['x-sms-signature'] as string, got.raw)).toBe(true);
    expect(receiver.on('/a')).toHaveLength(1); // the alert delivered before the upgrade is not sent again

    // A new alert goes the same way.
    const alerts = t.get(AlertsService);
    expect(
      await alerts.raise({
        tenantId: A,
        kind: 'cost_threshold',
        period: '2026-02',
        thresholdPct: 80,
        message: 'm',
        details: {},
      }),
    ).toBe(true);
    const next = await eventually(async () => receiver.on('/a')[1], 10_000, 'a new alert');
    expect(verifyWebhookSignature(KEPT, next.headers['x-sms-signature'] as string, next.raw)).toBe(true);
  });

  it('signs with a secret not sealed yet (another replica still starting), and replicas sealing at once agree', async () => {
    const sealer = t!.get(MigratedSecretSealer);
    const [b] = await endpoints(B);
    await q(
      `UPDATE sms_webhook_endpoints SET secret_ciphertext = NULL, secret_unsealed = 'whsec_between' WHERE id = $1`,
      [b.id],
    );
    const alerts = t!.get(AlertsService);
    await alerts.raise({ tenantId: B, kind: 'failure_rate', period: 'p1', message: 'm', details: {} });
    const first = await eventually(async () => receiver.on('/b')[0], 10_000, 'an alert signed in between');
    expect(
      verifyWebhookSignature('whsec_between', first.headers['x-sms-signature'] as string, first.raw),
    ).toBe(true);

    const sealed = await Promise.all([sealer.sealAll(), sealer.sealAll(), sealer.sealAll()]);
    expect(sealed.reduce((x, y) => x + y, 0)).toBe(1);
    expect(await q(`SELECT id FROM sms_webhook_endpoints WHERE secret_unsealed IS NOT NULL`)).toEqual([]);
    await alerts.raise({ tenantId: B, kind: 'failure_rate', period: 'p2', message: 'm', details: {} });
    const second = await eventually(
      async () => receiver.on('/b')[1],
      10_000,
      'an alert signed after sealing',
    );
    expect(
      verifyWebhookSignature('whsec_between', second.headers['x-sms-signature'] as string, second.raw),
    ).toBe(true);
  });
});
