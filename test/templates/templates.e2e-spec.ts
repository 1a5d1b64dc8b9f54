import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { waitForStatus } from '../support/messages';

const welcome = {
  template_id: 'welcome_message',
  name: 'Welcome Message',
  content_en: 'Welcome {{name}}! Your account has been created.',
  content_tr: 'Hoş geldiniz {{name}}! Hesabınız oluşturuldu.',
  message_type: 'general_notification',
  variables: ['name'],
};

const appointmentVars = {
  date: 'March 15, 2024',
  time: '2:00 PM',
  trainer_name: 'John Doe',
  location: 'Training Room A',
};

describe('templates', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
  });
  afterAll(() => t.close());

  const admin = () => ({ tenant: freshTenantId(), roles: ['admin'] });

  it("creates a template with the brief's payload and filters by message_type", async () => {
    const who = admin();
    const res = await t.http().post('/api/sms/templates').set(t.auth(who)).send(welcome).expect(201);
    expect(res.body).toMatchObject({
      template_id: 'welcome_message',
      version: 1,
      is_active: true,
      is_default: false,
    });
    const list = await t
      .http()
      .get('/api/sms/templates?message_type=general_notification')
      .set(t.auth(who))
      .expect(200);
    expect(list.body.map((x: { template_id: string }) => x.template_id).sort()).toEqual([
      'general_notification',
      'keyword_help',
      'keyword_start',
      'keyword_start_kept',
      'keyword_stop',
      'welcome_message',
    ]);
    await t.http().post('/api/sms/templates').set(t.auth(who)).send(welcome).expect(409);
  });

  it('lets only tenant admins create templates', async () => {
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth({ tenant: freshTenantId() }))
      .send(welcome)
      .expect(403);
  });

  it('keeps tenants apart: B never sees A’s templates', async () => {
    const a = admin();
    const b = admin();
    await t.http().post('/api/sms/templates').set(t.auth(a)).send(welcome).expect(201);
    await t.http().get('/api/sms/templates/welcome_message').set(t.auth(b)).expect(404);
    const list = await t.http().get('/api/sms/templates').set(t.auth(b)).expect(200);
    expect(list.body.map((x: { template_id: string }) => x.template_id)).not.toContain('welcome_message');
    await t.http().patch('/api/sms/templates/welcome_message').set(t.auth(b)).send({ name: 'x' }).expect(404);
    await t.http().delete('/api/sms/templates/welcome_message').set(t.auth(b)).expect(404);
  });

  it("sends the brief's templated payload in English", async () => {
    const who = { tenant: freshTenantId() };
    const res = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550123',
        template_id: 'appointment_reminder',
        variables: appointmentVars,
        language: 'en',
      })
      .expect(202);
    expect(res.body).toMatchObject({
      success: true,
      status: 'queued',
      template_id: 'appointment_reminder',
      language_used: 'en',
      segments: 1,
      encoding: 'GSM-7',
    });
    await waitForStatus(t, who, res.body.message_id, 'delivered');
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items[0]).toMatchObject({
      template_id: 'appointment_reminder',
      message_type: 'appointment_reminder',
      body: 'Reminder: your appointment with John Doe is on March 15, 2024 at 2:00 PM, Training Room A.',
    });
  });

  it('replays a send-templated with the same Idempotency-Key and sends nothing more', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const body = {
      phone_number: '+12025550123',
      template_id: 'appointment_reminder',
      variables: appointmentVars,
    };
    const send = (b: object) =>
      t.http().post('/api/sms/send-templated').set(t.auth(who)).set('Idempotency-Key', 'tpl-1').send(b);
    const first = await send(body).expect(202);
    const again = await send(body).expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const reused = await send({ ...body, language: 'tr' }).expect(422);
    expect(reused.body.details).toEqual([
      { field: 'Idempotency-Key', errors: [reused.body.message], rule: 'idempotency_key_reused' },
    ]);
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toHaveLength(1);
  });

  it('answers 400 to a variable that is not text or a number', async () => {
    const res = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({
        phone_number: '+12025550123',
        template_id: 'general_notification',
        variables: { message: null },
      })
      .expect(400);
    expect(res.body.details[0].field).toBe('variables.message');
  });
});
