import { DataSource } from 'typeorm';
import { LockKey, runCronJob, withAdvisoryLock } from '../../src/database/advisory-lock';
import { RemindersJob } from '../../src/jobs/reminders.job';
import { RetentionJob } from '../../src/jobs/retention.job';
import { StatusJob } from '../../src/jobs/status.job';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

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
          `INSERT INTO sms_webhook_deliveries (event_id, event_key, event_type, tenant_id, url, payload, status, created_at)
           VALUES (gen_random_uuid(), gen_random_uuid()::text, 'message.sent', $1, 'https://example.com/h', '{}', $2,
                   now() - make_interval(days => $3::int))
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

  it('logs a failed cron run instead of throwing, so the schedule goes on', async () => {
    const errors: unknown[] = [];
    const logger = { error: (m: unknown) => errors.push(m), log: () => undefined, warn: () => undefined };
    await expect(
      runCronJob(ds, LockKey.Sweeper, logger, 'boom', async () => {
        throw new Error('db down');
      }),
    ).resolves.toBeUndefined();
    expect(errors).toEqual([{ err: 'Error: db down' }]);
  });
});
