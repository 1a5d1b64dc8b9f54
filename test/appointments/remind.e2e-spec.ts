import { RemindersJob } from '../../src/jobs';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/** Issue 9: POST /api/sms/appointments/{id}/remind, what the Python client's send_appointment_reminder calls. */
describe('appointments: remind on demand', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const inTwoHours = () => new Date(Date.now() + 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  async function appointment(who: object, id: string) {
    await t
      .http()
      .put(`/api/sms/appointments/${id}`)
      .set(t.auth(who as never))
      .send({
        user_id: '456',
        phone_number: '+12025550123',
        starts_at: inTwoHours(),
        trainer_name: 'John Doe',
        location: 'Training Room A',
        language: 'en',
      })
      .expect(201);
  }
  const remind = (who: object, id: string, body: object = {}) =>
    t
      .http()
      .post(`/api/sms/appointments/${id}/remind`)
      .set(t.auth(who as never))
      .send(body);

  it('sends the reminder once per appointment start, and the cron then sends nothing', async () => {
    const tenant = freshTenantId();
    const alice = { tenant, user: 'alice' };
    await appointment(alice, 'r1');
    const first = await remind(alice, 'r1', { user_id: 456, language: 'en' }).expect(202);
    expect(first.body).toEqual({ success: true, message_id: expect.any(String) });
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    const again = await remind(alice, 'r1').expect(202);
    expect(again.body.message_id).toBe(first.body.message_id);
    expect(again.headers['idempotent-replayed']).toBe('true');

    const status = await t
      .http()
      .get(`/api/sms/messages/${first.body.message_id}/status`)
      .set(t.auth({ tenant, roles: ['admin'] }))
      .expect(200);
    expect(status.body).toMatchObject({ message_id: first.body.message_id });
    const stored = await t.http().get('/api/sms/appointments/r1').set(t.auth(alice)).expect(200);
    expect(stored.body.reminder_sent_at).not.toBeNull();

    const cron = await t.get(RemindersJob).runTenant(tenant);
    expect(cron.sent).toBe(0);
    const history = await t
      .http()
      .get('/api/sms/history?message_type=appointment_reminder')
      .set(t.auth({ tenant, roles: ['admin'] }))
      .expect(200);
    expect(history.body.items).toHaveLength(1);
  });

  it("answers 404 for another user's appointment and for an unknown one, and sends nothing", async () => {
    const tenant = freshTenantId();
    await appointment({ tenant, user: 'alice' }, 'r2');
    const res = await remind({ tenant, user: 'bob' }, 'r2').expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    await remind({ tenant, user: 'bob' }, 'nope').expect(404);
    const history = await t
      .http()
      .get('/api/sms/history')
      .set(t.auth({ tenant, roles: ['admin'] }))
      .expect(200);
    expect(history.body.items).toHaveLength(0);
  });

  it('refuses a bad override with 400 naming the field', async () => {
    const tenant = freshTenantId();
    await appointment({ tenant, user: 'alice' }, 'r3');
    const res = await remind({ tenant, user: 'alice' }, 'r3', { language: 'de' }).expect(400);
    expect(res.body.details[0].field).toBe('language');
  });
});
