import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { SweeperService } from '../../src/messaging';
import { DeliveryQueue } from '../../src/messaging/delivery/delivery-queue';
import { FakeClock } from '../support/fake-clock';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { NO_CONSENT_NEEDED } from '../support/tenants';

/** Quiet hours for sends outside campaigns: promotional ones wait for the window's end. */
describe('quiet hours for templated and free-text promotional sends', () => {
  let t: TestApp;
  let ds: DataSource;
  const clock = new FakeClock();
  const admin = { tenant: freshTenantId(), roles: ['admin'] };
  const at = (iso: string) => clock.advance(Date.parse(iso) - clock.now().getTime());

  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10' },
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
    ds = t.get(DataSource);
    await t.get(SweeperService).recoverLostJobs();
    await t
      .http()
      .post('/api/sms/tenants')
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({
        id: admin.tenant,
        name: 'quiet',
        settings: {
          quiet_hours: { start: '21:00', end: '08:00' },
          timezone: 'UTC',
          allowed_countries: ['US', 'TR'],
          ...NO_CONSENT_NEEDED,
        },
      })
      .expect(201);
    const template = (id: string, transactional?: boolean) => ({
      template_id: id,
      name: id,
      content_en: 'Hello {{name}}',
      message_type: id,
      variables: ['name'],
      ...(transactional === undefined ? {} : { transactional }),
    });
    for (const body of [template('spring_offer'), template('shift_change', true)])
      await t.http().post('/api/sms/templates').set(t.auth(admin)).send(body).expect(201);
  });
  afterAll(async () => {
    at(new Date().toISOString());
    await t.close();
  });

  const sendTemplated = (templateId: string, phone: string) =>
    t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(admin))
      .send({ phone_number: phone, template_id: templateId, variables: { name: 'Ann' } })
      .expect(202);

  const row = async (id: string) => {
    const [r]: { status: string; scheduled_at: Date | null }[] = await ds.query(
      'SELECT status, scheduled_at FROM sms_messages WHERE id = $1',
      [id],
    );
    return { status: r.status, scheduled_at: r.scheduled_at && new Date(r.scheduled_at).toISOString() };
  };

  it("defers a promotional templated send to the window's end in the recipient's zone, as scheduled", async () => {
    at('2026-01-15T22:30:00Z');
    const us = await sendTemplated('spring_offer', '+12025550301');
    expect(us.body.status).toBe('scheduled');
    // A US number has several zones: the tenant's (UTC) decides.
    expect(await row(us.body.message_id)).toEqual({
      status: 'scheduled',
      scheduled_at: '2026-01-16T08:00:00.000Z',
    });
    const job = await t.get(DeliveryQueue).queue.getJob(us.body.message_id);
    // The job waits in Redis until then (the clock keeps running: a little less than 9.5 h).
    expect(job?.opts.delay).toBeLessThanOrEqual(9.5 * 3_600_000);
    expect(job?.opts.delay).toBeGreaterThan(9.5 * 3_600_000 - 5_000);
    // 01:30 in Istanbul: the window ends at 08:00 there (05:00 UTC).
    const tr = await sendTemplated('spring_offer', '+905321110003');
    expect(await row(tr.body.message_id)).toEqual({
      status: 'scheduled',
      scheduled_at: '2026-01-16T05:00:00.000Z',
    });
  });

  it('defers a free-text general notification too', async () => {
    at('2026-01-15T23:00:00Z');
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({
        phone_number: '+12025550302',
        message: 'Open day on Friday',
        message_type: 'general_notification',
      })
      .expect(202);
    expect(await row(res.body.message_id)).toEqual({
      status: 'scheduled',
      scheduled_at: '2026-01-16T08:00:00.000Z',
    });
  });

  it('sends transactional templates and codes at once, and promotional ones outside the window', async () => {
    at('2026-01-15T22:30:00Z');
    const tx = await sendTemplated('shift_change', '+12025550303');
    expect(tx.body.status).toBe('queued');
    expect((await row(tx.body.message_id)).scheduled_at).toBeNull();
    const code = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth({ tenant: admin.tenant, user: 'u1' }))
      .send({ phone_number: '+12025550304', purpose: '2fa' })
      .expect(202);
    expect(code.body.status).toBe('queued');
    at('2026-01-16T12:00:00Z');
    const day = await sendTemplated('spring_offer', '+12025550305');
    expect(day.body.status).toBe('queued');
  });

  it('moves a scheduled promotional send that falls inside the window to its end', async () => {
    at('2026-01-15T12:00:00Z');
    const res = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth(admin))
      .send({
        phone_number: '+12025550306',
        message: 'Open day on Friday',
        message_type: 'general_notification',
        scheduled_time: '2026-01-15T23:00:00Z',
      })
      .expect(202);
    expect(await row(res.body.message_id)).toEqual({
      status: 'scheduled',
      scheduled_at: '2026-01-16T08:00:00.000Z',
    });
  });
});
