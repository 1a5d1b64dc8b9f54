import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createServer, Server } from 'node:net';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { loadConfig } from '../../src/config/app-config';
import { LockKey, withAdvisoryLock } from '../../src/database/advisory-lock';
import { JobArgs, parseJobArgs, runJobOnce } from '../../src/jobs/job.cli';
import { JOB_NAMES, JobName } from '../../src/jobs/job-registry';
import { JobRunner, SKIPPED } from '../../src/jobs/job-runner';
import { JobScheduler } from '../../src/jobs/job-scheduler';
import { RemindersJob } from '../../src/jobs/reminders.job';
import { RetentionJob } from '../../src/jobs/retention.job';
import { StatusJob } from '../../src/jobs/status.job';
import { SweeperService } from '../../src/messaging';
import { MetricsService, WorkerMetricsServer } from '../../src/monitoring';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

describe('scheduled jobs', () => {
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  const send = async (who: { tenant: number; roles?: string[] }, message: string) =>
    (
      await t
        .http()
        .post('/api/sms/send')
        .set(t.auth(who))
        .send({ phone_number: '+12025550123', message })
        .expect(202)
    ).body.message_id as string;

  it('sends a reminder once for each appointment due within SMS_REMINDER_LEAD_HOURS', async () => {
    const tenant = freshTenantId();
    const who = { tenant, roles: ['admin'] };
    const soon = new Date(Date.now() + 3 * 3600_000).toISOString();
    const later = new Date(Date.now() + 72 * 3600_000).toISOString();
    const base = {
      phone_number: '+12025550123',
      trainer_name: 'John Doe',
      location: 'Training Room A',
      timezone: 'America/New_York',
    };
    await t
      .http()
      .put('/api/sms/appointments/soon')
      .set(t.auth(who))
      .send({ ...base, starts_at: soon })
      .expect(201);
    await t
      .http()
      .put('/api/sms/appointments/later')
      .set(t.auth(who))
      .send({ ...base, starts_at: later })
      .expect(201);
    const job = t.get(RemindersJob);
    const first = await job.run();
    expect(first.sent).toBeGreaterThanOrEqual(1);
    await job.run();
    const items = (await t.http().get('/api/sms/history').set(t.auth(who)).expect(200)).body.items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      template_id: 'appointment_reminder',
      created_by: 'system:reminders',
      metadata: { appointment_id: 'soon' },
    });
    expect(
      (await t.http().get('/api/sms/appointments/later').set(t.auth(who)).expect(200)).body.reminder_sent_at,
    ).toBeNull();
  });

  it('leaves a message stuck in sending as unknown (never failed, never resent) when the provider cannot be asked', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const id = await send(who, 'stuck');
    await waitForStatus(t, who, id, 'delivered');
    // Simulate a worker that died mid-attempt 20 minutes ago.
    await ds.query(
      `UPDATE sms_messages SET status = 'sending', updated_at = now() - interval '20 minutes' WHERE id = $1`,
      [id],
    );
    expect((await t.get(StatusJob).run()).resolved.unknown).toBeGreaterThanOrEqual(1);
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body).toMatchObject({ status: 'unknown', error_code: 'outcome_unknown' });
    expect(status.body.error_message).toContain('sandbox cannot be asked');
    expect(status.body.events.at(-1)).toMatchObject({ status: 'unknown', source: 'resolver' });
  });

  it('deletes finished messages past SMS_RETENTION_DAYS and expired idempotency keys, keeping pending ones', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const old = await send(who, 'old');
    await waitForStatus(t, who, old, 'delivered');
    const pending = (
      await t
        .http()
        .post('/api/sms/schedule')
        .set(t.auth(who))
        .send({
          phone_number: '+12025550123',
          message: 'future',
          scheduled_time: new Date(Date.now() + 3600_000).toISOString(),
        })
        .expect(202)
    ).body.message_id as string;
    await ds.query(`UPDATE sms_messages SET created_at = now() - interval '91 days' WHERE id = ANY($1)`, [
      [old, pending],
    ]);
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .set('Idempotency-Key', 'old-key')
      .send({ phone_number: '+12025550123', message: 'k' })
      .expect(202);
    await ds.query(
      `UPDATE sms_idempotency_keys SET created_at = now() - interval '25 hours' WHERE tenant_id = $1`,
      [who.tenant],
    );
    const result = await t.get(RetentionJob).run();
    expect(result.messages).toBeGreaterThanOrEqual(1);
    expect(result.idempotencyKeys).toBeGreaterThanOrEqual(1);
    await t.http().get(`/api/sms/messages/${old}/status`).set(t.auth(who)).expect(404);
    await t.http().get(`/api/sms/messages/${pending}/status`).set(t.auth(who)).expect(200);
    expect(await ds.query('SELECT 1 FROM sms_message_events WHERE message_id = $1', [old])).toEqual([]);
  });

  it('deletes finished callback deliveries, inbound texts and empty bulk metadata past retention, keeping what is pending or recent', async () => {
    const tenant = freshTenantId();
    await ds.query(`INSERT INTO tenants (id, name) VALUES ($1, 'retention') ON CONFLICT DO NOTHING`, [
      tenant,
    ]);
    const delivery = async (status: string, daysAgo: number) =>
      (
        await ds.query(
          // Its next attempt an hour away: the callbacks dispatcher of this app leaves the pending one
          // alone (claimed, its 24 h of retries long over, it would be failed, then deleted here).
          `INSERT INTO sms_webhook_deliveries (event_id, event_key, event_type, tenant_id, url, payload, status, created_at, next_attempt_at)
           VALUES (gen_random_uuid(), gen_random_uuid()::text, 'message.sent', $1, 'https://example.com/h', '{}', $2,
                   now() - make_interval(days => $3::int), now() + interval '1 hour')
           RETURNING id`,
          [tenant, status, daysAgo],
        )
      )[0].id as string;
    const oldDone = await delivery('delivered', 91);
    await ds.query(
      `INSERT INTO sms_webhook_attempts (delivery_id, at, status_code, duration_ms) VALUES ($1, now(), 200, 5)`,
      [oldDone],
    );
    const oldPending = await delivery('pending', 91);
    const recent = await delivery('failed', 10);
    const inbound = async (daysAgo: number) =>
      (
        await ds.query(
          `INSERT INTO sms_inbound_messages (tenant_id, provider, provider_message_id, from_number, to_number, body, received_at)
           VALUES ($1, 'twilio', gen_random_uuid()::text, '+12025550123', '+12025550100', 'hello',
                   now() - make_interval(days => $2::int))
           RETURNING id`,
          [tenant, daysAgo],
        )
      )[0].id as string;
    const oldInbound = await inbound(91);
    const newInbound = await inbound(1);
    const batch = async (daysAgo: number) =>
      (
        await ds.query(
          `INSERT INTO sms_batches (id, tenant_id, metadata, created_at)
           VALUES (gen_random_uuid(), $1, '{}', now() - make_interval(days => $2::int)) RETURNING id`,
          [tenant, daysAgo],
        )
      )[0].id as string;
    const oldEmptyBatch = await batch(91);
    const recentBatch = await batch(1);

    const result = await t.get(RetentionJob).run();
    expect(result.webhookDeliveries).toBeGreaterThanOrEqual(1);
    const ids = async (table: string, list: string[]) =>
      (await ds.query(`SELECT id::text FROM ${table} WHERE id::text = ANY($1)`, [list])).map(
        (r: { id: string }) => r.id,
      );
    expect(await ids('sms_webhook_deliveries', [oldDone, oldPending, recent])).toEqual(
      expect.arrayContaining([String(oldPending), String(recent)]),
    );
    expect(await ids('sms_webhook_deliveries', [oldDone])).toEqual([]);
    expect(await ds.query('SELECT 1 FROM sms_webhook_attempts WHERE delivery_id = $1', [oldDone])).toEqual(
      [],
    );
    expect(await ids('sms_inbound_messages', [oldInbound, newInbound])).toEqual([String(newInbound)]);
    expect(await ids('sms_batches', [oldEmptyBatch, recentBatch])).toEqual([recentBatch]);
  });

  it('runs a job on one replica at a time: a second holder of the lock skips', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let locked: () => void = () => undefined;
    const gotLock = new Promise<void>((r) => (locked = r));
    const first = withAdvisoryLock(ds, LockKey.Retention, async () => {
      locked();
      await held;
      return 'ran';
    });
    await gotLock;
    expect(await withAdvisoryLock(ds, LockKey.Retention, async () => 'ran too')).toBeUndefined();
    release();
    expect(await first).toBe('ran');
    expect(await withAdvisoryLock(ds, LockKey.Retention, async () => 'again')).toBe('again');
  });
});

const countOrNull = {
  asymmetricMatch: (v: unknown) => v === null || typeof v === 'number',
  toAsymmetricMatcher: () => 'a count or null',
};

/** What each job's run once returns: its own summary, never the lock's "skipped". */
const RESULTS: Record<JobName, Record<string, unknown>> = {
  sweep: { recovered: countOrNull, queued: countOrNull, expired: expect.any(Number) },
  outcomes: { sent: expect.any(Number), retried: expect.any(Number), unknown: expect.any(Number) },
  campaigns: { started: expect.any(Array), resumed: expect.any(Array) },
  callbacks: { claimed: expect.any(Number), delivered: expect.any(Number), failed: expect.any(Number) },
  rollup: { folded: expect.any(Number) },
  alerts: { evaluated: true },
  reminders: { sent: expect.any(Number), failed: expect.any(Number) },
  status: { resolved: expect.any(Object), updated: expect.any(Number), expired: expect.any(Number) },
  retention: {
    ledgerMonthsDropped: expect.any(Number),
    messages: expect.any(Number),
    idempotencyKeys: expect.any(Number),
  },
  partitions: { created: expect.any(Array) },
  fallbacks: { due: expect.any(Number), sent: expect.any(Number) },
};

describe('npm run job -- <name>: every registered loop runs once by name', () => {
  let ctx: INestApplicationContext;
  beforeAll(async () => {
    const config = loadConfig({ ...process.env, APP_ROLE: 'worker' });
    ctx = await NestFactory.createApplicationContext(AppModule.forRoot(config, { oneShot: true }), {
      logger: false,
    });
  });
  afterAll(() => ctx.close());

  it.each([...JOB_NAMES])('%s', async (name) => {
    const args = parseJobArgs([name]) as JobArgs;
    const result = await ctx.get(JobRunner).run(args.name, { tenantId: args.tenantId });
    expect(result).not.toEqual(SKIPPED);
    expect(result).toEqual(expect.objectContaining(RESULTS[name]));
  });

  it('skips, saying so, while another process holds the job lock', async () => {
    let release: () => void = () => undefined;
    let locked: () => void = () => undefined;
    const gotLock = new Promise<void>((r) => (locked = r));
    const held = withAdvisoryLock(ctx.get(DataSource), LockKey.Alerts, async () => {
      locked();
      await new Promise<void>((r) => (release = r));
    });
    await gotLock;
    expect(await ctx.get(JobRunner).run('alerts')).toEqual(SKIPPED);
    release();
    await held;
  });
});

/** A port nothing listens on now (the OS hands out a free one, which is then closed). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

describe('beside a running worker', () => {
  let worker: TestApp;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    worker = await createTestApp({
      env: { APP_ROLE: 'worker', METRICS_PORT: String(port), SMS_SWEEP_INTERVAL_MS: '100' },
    });
  });
  afterAll(() => worker.close());
  afterEach(() => jest.restoreAllMocks());

  it('the worker serves its metrics on METRICS_PORT and runs the registered jobs on their schedules', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# TYPE');
    const pass = jest.spyOn(worker.get(SweeperService), 'pass');
    await eventually(async () => (pass.mock.calls.length > 0 ? true : undefined), 5000, 'a sweep tick');
  });

  it('npm run job -- status runs in a context that opens no port, although the worker holds METRICS_PORT', async () => {
    const listen = jest.spyOn(Server.prototype, 'listen');
    const config = loadConfig({ ...process.env, APP_ROLE: 'worker', METRICS_PORT: String(port) });
    const { result } = await runJobOnce(config, parseJobArgs(['status']) as JobArgs);
    expect(result).toEqual(expect.objectContaining(RESULTS.status));
    expect(listen).not.toHaveBeenCalled();
  });

  it('a second worker on the same METRICS_PORT does not start, and its message names METRICS_PORT and the way out', async () => {
    const second = new WorkerMetricsServer(worker.config, worker.get(MetricsService));
    await expect(second.onModuleInit()).rejects.toThrow(
      `METRICS_PORT ${port} is already in use (another worker on this host?): ` +
        'give each worker on a host its own METRICS_PORT, or set METRICS_PORT=0 to run without one',
    );
    expect(second.port()).toBeNull();
  });

  it('a second worker with METRICS_PORT=0 starts beside it, without a metrics server, and runs the jobs', async () => {
    const listen = jest.spyOn(Server.prototype, 'listen');
    const second = await createTestApp({ env: { APP_ROLE: 'worker', METRICS_PORT: '0' } });
    try {
      expect(listen).not.toHaveBeenCalled();
      expect(second.get(WorkerMetricsServer).port()).toBeNull();
      expect(second.get(JobScheduler)).toBeInstanceOf(JobScheduler);
    } finally {
      await second.close();
    }
  });

  it('the api role schedules no job', async () => {
    const api = await createTestApp({ env: { APP_ROLE: 'api' } });
    try {
      expect(() => api.get(JobScheduler)).toThrow();
      expect(() => api.get(JobRunner)).toThrow();
    } finally {
      await api.close();
    }
  });
});
