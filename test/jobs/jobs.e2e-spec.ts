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
