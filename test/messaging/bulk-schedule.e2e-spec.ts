import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { waitForStatus } from '../support/messages';
import { allowCountries, NO_CONSENT_NEEDED } from '../support/tenants';
import { eventually } from '../support/wait';

describe('bulk, scheduling and cancel', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        SANDBOX_DELIVERY_DELAY_MS: '10',
        SMS_BULK_MAX: '500',
        SMS_MAX_ATTEMPTS: '3',
        SMS_RETRY_BASE_MS: '50',
      },
    });
  });
  afterAll(() => t.close());

  it('sends a bulk once per number, lists invalid ones and delivers the rest', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    await allowCountries(t, who.tenant, ['US', 'TR'], NO_CONSENT_NEEDED);
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({
        phone_numbers: ['+12025550123', '+1 202-555-0123', '+905321234567', '+1234567890', 'not a number'],
        message: 'Important announcement: Training session rescheduled',
        message_type: 'general_notification',
      })
      .expect(202);
    expect(res.body).toMatchObject({ success: true, batch_id: expect.any(String), accepted: 2 });
    expect(res.body.rejected).toEqual([
      { phone_number: '+1234567890', reason: expect.any(String) },
      { phone_number: 'not a number', reason: 'not_a_number' },
    ]);
    expect(res.body.message_ids).toHaveLength(2);
    for (const id of res.body.message_ids) await waitForStatus(t, who, id, 'delivered');
    const history = await t
      .http()
      .get(`/api/sms/history?batch_id=${res.body.batch_id}`)
      .set(t.auth(who))
      .expect(200);
    expect(history.body.items.map((m: { phone_number: string }) => m.phone_number).sort()).toEqual([
      '+12025550123',
      '+905321234567',
    ]);
  });

  it('delivers a bulk in chunks: each number once, a failing one retried alone until it fails', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    // 250 numbers are three chunk jobs; +15005550010 is the sandbox's retryable outage.
    const numbers = [...Array.from({ length: 249 }, (_, i) => `+1202555${String(2000 + i)}`), '+15005550010'];
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({ phone_numbers: numbers, message: 'chunked' })
      .expect(202);
    expect(res.body.accepted).toBe(250);
    const outage = res.body.message_ids[249];
    const failed = await waitForStatus(t, who, outage, 'failed', 15_000);
    expect(failed).toMatchObject({ attempts: 3, error_code: 'sandbox:http_503' });
    const inBatch = async (status: string) =>
      (
        await t
          .http()
          .get(`/api/sms/history?batch_id=${res.body.batch_id}&status=${status}&limit=200`)
          .set(t.auth(who))
          .expect(200)
      ).body.items as { message_id: string }[];
    await eventually(async () =>
      (await inBatch('queued')).length + (await inBatch('sending')).length === 0 ? true : undefined,
    );
    expect((await inBatch('failed')).map((m) => m.message_id)).toEqual([outage]);
    const sample = await t
      .http()
      .get(`/api/sms/messages/${res.body.message_ids[0]}/status`)
      .set(t.auth(who))
      .expect(200);
    expect(sample.body.attempts).toBe(1); // not resent when its chunk was retried for the outage
  });

  it('answers 400 with the list when every number is invalid', async () => {
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_numbers: ['+1234567890', '+0987654321'], message: 'x' })
      .expect(400);
    expect(res.body.details[0]).toMatchObject({
      field: 'phone_numbers',
      rejected: [{ phone_number: '+1234567890' }, { phone_number: '+0987654321' }],
    });
  });

  it('answers 400 over SMS_BULK_MAX', async () => {
    const numbers = Array.from({ length: 501 }, (_, i) => `+1202555${String(1000 + i).padStart(4, '0')}`);
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_numbers: numbers, message: 'x' })
      .expect(400);
    expect(res.body.message).toContain('SMS_BULK_MAX');
  });

  it('fires a scheduled message at its time', async () => {
    const who = { tenant: freshTenantId() };
    const at = new Date(Date.now() + 1500);
    const res = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550123',
        message: 'Reminder: Your assessment is due tomorrow',
        scheduled_time: at.toISOString(),
        message_type: 'assessment_notification',
      })
      .expect(202);
    expect(res.body).toMatchObject({ status: 'scheduled', scheduled_time: at.toISOString() });
    const before = await t
      .http()
      .get(`/api/sms/messages/${res.body.message_id}/status`)
      .set(t.auth(who))
      .expect(200);
    expect(before.body.status).toBe('scheduled');
    const sent = await waitForStatus(t, who, res.body.message_id, 'delivered', 15_000);
    expect(new Date(sent.sent_at).getTime()).toBeGreaterThanOrEqual(at.getTime() - 50);
  });

  it('cancels a scheduled message so it never goes out', async () => {
    const who = { tenant: freshTenantId() };
    const res = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550123',
        message: 'later',
        scheduled_time: new Date(Date.now() + 60_000).toISOString(),
      })
      .expect(202);
    await t.http().delete(`/api/sms/messages/${res.body.message_id}`).set(t.auth(who)).expect(204);
    const status = await t
      .http()
      .get(`/api/sms/messages/${res.body.message_id}/status`)
      .set(t.auth(who))
      .expect(200);
    expect(status.body.status).toBe('canceled');
    expect(status.body.events.map((e: { status: string }) => e.status)).toEqual(['scheduled', 'canceled']);
  });

  it('answers 409 to cancel a message a provider already has', async () => {
    const who = { tenant: freshTenantId() };
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', message: 'now' })
      .expect(202);
    await waitForStatus(t, who, res.body.message_id, 'delivered');
    const conflict = await t
      .http()
      .delete(`/api/sms/messages/${res.body.message_id}`)
      .set(t.auth(who))
      .expect(409);
    expect(conflict.body.message).toContain('delivered');
    expect(conflict.body.details).toEqual([{ errors: [conflict.body.message], status: 'delivered' }]);
  });

  it.each([
    ['in the past', () => new Date(Date.now() - 1000).toISOString()],
    ['more than 35 days ahead', () => new Date(Date.now() + 36 * 24 * 3600 * 1000).toISOString()],
    ['not a date', () => 'tomorrow-ish'],
  ])('answers 400 to a scheduled_time %s', async (_name, when) => {
    const res = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_number: '+12025550123', message: 'x', scheduled_time: when() })
      .expect(400);
    expect(res.body.details[0].field).toBe('scheduled_time');
  });
});
