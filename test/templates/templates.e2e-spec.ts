import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { waitForStatus } from '../support/messages';
import { allowCountries } from '../support/tenants';

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

  it('lists the defaults (five message templates, three keyword replies) to every tenant', async () => {
    const res = await t
      .http()
      .get('/api/sms/templates')
      .set(t.auth({ tenant: freshTenantId() }))
      .expect(200);
    expect(res.body.map((x: { template_id: string }) => x.template_id).sort()).toEqual([
      '2fa_code',
      'appointment_reminder',
      'assessment_notification',
      'general_notification',
      'keyword_help',
      'keyword_start',
      'keyword_stop',
      'password_reset',
    ]);
    const reminder = res.body.find((x: { template_id: string }) => x.template_id === 'appointment_reminder');
    expect(reminder).toMatchObject({
      is_default: true,
      variables: ['date', 'time', 'trainer_name', 'location'],
    });
    expect(reminder.content_tr).toContain('randevunuz');
  });

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

  it('rejects placeholders that do not match the declared variables, naming the difference', async () => {
    const res = await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(admin()))
      .send({ ...welcome, content_tr: 'Hoş geldiniz {{ad}}!' })
      .expect(400);
    expect(res.body.message).toBe('content_tr uses undeclared ad; content_tr does not use declared name');
    expect(res.body.details[0]).toMatchObject({ field: 'content_tr', undeclared: ['ad'], unused: ['name'] });
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

  it("shadows a default with the tenant's own template, and shows the default again when it is deleted", async () => {
    const who = admin();
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: '2fa_code',
        name: 'Our 2FA',
        content_en: 'ACME code: {{code}}',
        message_type: '2fa_code',
        variables: ['code'],
      })
      .expect(201);
    const mine = await t.http().get('/api/sms/templates/2fa_code').set(t.auth(who)).expect(200);
    expect(mine.body).toMatchObject({ content_en: 'ACME code: {{code}}', is_default: false });
    const other = await t.http().get('/api/sms/templates/2fa_code').set(t.auth(admin())).expect(200);
    expect(other.body.is_default).toBe(true);
    await t.http().delete('/api/sms/templates/2fa_code').set(t.auth(who)).expect(204);
    const back = await t.http().get('/api/sms/templates/2fa_code').set(t.auth(who)).expect(200);
    expect(back.body.is_default).toBe(true);
  });

  it('refuses a tenant copy of a code template that changes its message type', async () => {
    const res = await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(admin()))
      .send({
        template_id: '2fa_code',
        name: 'Our 2FA',
        content_en: 'ACME code: {{code}}',
        message_type: 'general_notification',
        variables: ['code'],
      })
      .expect(400);
    expect(res.body.message).toBe('template "2fa_code" must have message_type 2fa_code');
  });

  it('answers 409, not 500, when the same template is created twice at once', async () => {
    const who = admin();
    const statuses = await Promise.all(
      [1, 2].map(
        async () => (await t.http().post('/api/sms/templates').set(t.auth(who)).send(welcome)).status,
      ),
    );
    expect(statuses.sort()).toEqual([201, 409]);
  });

  it('keeps both of two concurrent PATCHes: the version counts each', async () => {
    const who = admin();
    await t.http().post('/api/sms/templates').set(t.auth(who)).send(welcome).expect(201);
    await Promise.all([
      t.http().patch('/api/sms/templates/welcome_message').set(t.auth(who)).send({ name: 'A' }).expect(200),
      t
        .http()
        .patch('/api/sms/templates/welcome_message')
        .set(t.auth(who))
        .send({ content_tr: 'Selam {{name}}' })
        .expect(200),
    ]);
    const res = await t.http().get('/api/sms/templates/welcome_message').set(t.auth(who)).expect(200);
    expect(res.body).toMatchObject({ version: 3, name: 'A', content_tr: 'Selam {{name}}' });
  });

  it('refuses to change or delete a built-in default', async () => {
    const who = admin();
    const res = await t.http().delete('/api/sms/templates/password_reset').set(t.auth(who)).expect(403);
    expect(res.body.message).toContain('built-in default');
    await t
      .http()
      .patch('/api/sms/templates/password_reset')
      .set(t.auth(who))
      .send({ name: 'x' })
      .expect(403);
  });

  it('increments the version on PUT and PATCH', async () => {
    const who = admin();
    await t.http().post('/api/sms/templates').set(t.auth(who)).send(welcome).expect(201);
    const put = await t
      .http()
      .put('/api/sms/templates/welcome_message')
      .set(t.auth(who))
      .send({
        name: 'Welcome',
        content_en: 'Hi {{name}}',
        message_type: 'general_notification',
        variables: ['name'],
      })
      .expect(200);
    expect(put.body).toMatchObject({
      version: 2,
      content_en: 'Hi {{name}}',
      content_tr: 'Hoş geldiniz {{name}}! Hesabınız oluşturuldu.',
    });
    const patch = await t
      .http()
      .patch('/api/sms/templates/welcome_message')
      .set(t.auth(who))
      .send({ content_tr: 'Selam {{name}}' })
      .expect(200);
    expect(patch.body).toMatchObject({ version: 3, content_tr: 'Selam {{name}}' });
    await t
      .http()
      .patch('/api/sms/templates/welcome_message')
      .set(t.auth(who))
      .send({ variables: ['name', 'extra'] })
      .expect(400);
  });

  it('answers 404 naming the id and the tenant for an inactive or unknown template', async () => {
    const who = admin();
    await t.http().post('/api/sms/templates').set(t.auth(who)).send(welcome).expect(201);
    await t.http().delete('/api/sms/templates/welcome_message').set(t.auth(who)).expect(204);
    const res = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', template_id: 'welcome_message', variables: { name: 'Ayşe' } })
      .expect(404);
    expect(res.body.message).toContain('template not found');
    expect(res.body.message).toContain('"welcome_message"');
    expect(res.body.message).toContain(`tenant ${who.tenant}`);
    const inactive = await t
      .http()
      .get('/api/sms/templates?include_inactive=true')
      .set(t.auth(who))
      .expect(200);
    expect(
      inactive.body.find((x: { template_id: string }) => x.template_id === 'welcome_message'),
    ).toMatchObject({ is_active: false });
  });

  it('previews with the encoding, segments and missing variables', async () => {
    const res = await t
      .http()
      .post('/api/sms/templates/appointment_reminder/preview')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ variables: { date: '15 Mart 2024', time: '14:00' }, language: 'tr' })
      .expect(200);
    expect(res.body).toMatchObject({
      encoding: 'UCS-2',
      missing_variables: ['trainer_name', 'location'],
      language_used: 'tr',
    });
    expect(res.body.text).toContain('15 Mart 2024');
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

  it('sends in Turkish, and falls back to English when the template has no Turkish text', async () => {
    const who = admin();
    await allowCountries(t, who.tenant, ['US', 'TR']);
    const tr = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({
        phone_number: '+905321234567',
        template_id: 'appointment_reminder',
        variables: appointmentVars,
        language: 'tr',
      })
      .expect(202);
    expect(tr.body).toMatchObject({ language_used: 'tr', encoding: 'UCS-2' });
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: 'english_only',
        name: 'E',
        content_en: 'Hello {{name}}',
        message_type: 'general_notification',
        variables: ['name'],
      })
      .expect(201);
    const en = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({
        phone_number: '+905321234567',
        template_id: 'english_only',
        variables: { name: 'Ayşe' },
        language: 'tr',
      })
      .expect(202);
    expect(en.body.language_used).toBe('en');
  });

  it("uses the tenant's default language when none is asked for", async () => {
    const tenant = freshTenantId();
    await t
      .http()
      .post('/api/sms/tenants')
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({
        id: tenant,
        name: 'Ankara',
        settings: { default_language: 'tr', allowed_countries: ['US', 'TR'] },
      })
      .expect(201);
    const res = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth({ tenant }))
      .send({
        phone_number: '+905321234567',
        template_id: 'assessment_notification',
        variables: { assessment_name: 'İSG', due_date: '20 Mart' },
      })
      .expect(202);
    expect(res.body.language_used).toBe('tr');
  });

  it('answers 400 listing every missing variable, and for unknown or oversized ones, storing nothing', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const missing = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550123',
        template_id: 'appointment_reminder',
        variables: { date: 'today' },
      })
      .expect(400);
    expect(missing.body.message).toBe('missing variables: time, trainer_name, location');
    expect(missing.body.details[0].missing).toEqual(['time', 'trainer_name', 'location']);
    const unknown = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550123',
        template_id: 'password_reset',
        variables: { code: '1', extra: 'x' },
      })
      .expect(400);
    expect(unknown.body.message).toBe('unknown variables: extra');
    const long = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550123',
        template_id: 'general_notification',
        variables: { message: 'x'.repeat(201) },
      })
      .expect(400);
    expect(long.body.details[0].field).toBe('variables.message');
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toEqual([]);
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
    await send({ ...body, language: 'tr' }).expect(422);
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

  it('never evaluates a value and strips its control characters', async () => {
    const who = { tenant: freshTenantId() };
    const res = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550123',
        template_id: 'general_notification',
        variables: { message: '${process.env.JWT_SECRET}\u0007 {{code}}' },
      })
      .expect(202);
    const status = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(status.body.items[0].body).toBe('${process.env.JWT_SECRET} {{code}}');
    expect(res.body.template_id).toBe('general_notification');
  });
});
