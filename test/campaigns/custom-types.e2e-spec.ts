import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/** The brief's "Create Template" body, verbatim: its message_type is the tenant's own. */
const briefWelcome = {
  template_id: 'welcome_message',
  name: 'Welcome Message',
  content_en: 'Welcome {{name}}! Your account has been created.',
  content_tr: 'Hoş geldiniz {{name}}! Hesabınız oluşturuldu.',
  message_type: 'welcome_message',
  variables: ['name'],
};

describe('custom message types', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
  });
  afterAll(() => t.close());

  it("accepts the brief's template body: a custom type, promotional by default", async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    const res = await t.http().post('/api/sms/templates').set(t.auth(admin)).send(briefWelcome).expect(201);
    expect(res.body).toMatchObject({ message_type: 'welcome_message', transactional: false });
    const list = await t
      .http()
      .get('/api/sms/templates?message_type=welcome_message')
      .set(t.auth(admin))
      .expect(200);
    expect(list.body.map((x: { template_id: string }) => x.template_id)).toEqual(['welcome_message']);
  });

  it('keeps transactional: true for a custom type; built-ins keep their own class', async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    const res = await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(admin))
      .send({
        ...briefWelcome,
        template_id: 'account_alert',
        message_type: 'account_alert',
        transactional: true,
      })
      .expect(201);
    expect(res.body.transactional).toBe(true);
    const patched = await t
      .http()
      .patch('/api/sms/templates/account_alert')
      .set(t.auth(admin))
      .send({ transactional: false })
      .expect(200);
    expect(patched.body.transactional).toBe(false);
    const builtIn = await t
      .http()
      .get('/api/sms/templates/appointment_reminder')
      .set(t.auth(admin))
      .expect(200);
    expect(builtIn.body.transactional).toBe(true);
  });

  it.each(['Welcome', 'w', '1abc', 'welcome-message', 'a'.repeat(50)])(
    'refuses message_type %p by name, storing nothing',
    async (type) => {
      const admin = { tenant: freshTenantId(), roles: ['admin'] };
      const res = await t
        .http()
        .post('/api/sms/templates')
        .set(t.auth(admin))
        .send({ ...briefWelcome, message_type: type })
        .expect(400);
      expect(JSON.stringify(res.body.details)).toContain('message_type');
      await t.http().get('/api/sms/templates/welcome_message').set(t.auth(admin)).expect(404);
    },
  );

  it('sends a custom-type template, groups history by it, and keeps /send to the built-ins', async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    await t.http().post('/api/sms/templates').set(t.auth(admin)).send(briefWelcome).expect(201);
    const sent = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(admin))
      .send({ phone_number: '+12025550123', template_id: 'welcome_message', variables: { name: 'Ayşe' } })
      .expect(202);
    expect(sent.body.template_id).toBe('welcome_message');
    const history = await t
      .http()
      .get('/api/sms/history?message_type=welcome_message')
      .set(t.auth(admin))
      .expect(200);
    const items = history.body.items ?? history.body.messages ?? history.body;
    expect(JSON.stringify(items)).toContain('welcome_message');
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({ phone_number: '+12025550123', message: 'hi', message_type: 'welcome_message' })
      .expect(400);
  });
});
