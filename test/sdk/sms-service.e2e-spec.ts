import { DataSource } from 'typeorm';
import { SmsService } from '../../src/sdk/sms.service';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { allowCountries } from '../support/tenants';

describe('SmsService (in-process SDK) and appointments', () => {
  let t: TestApp;
  let sms: SmsService;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_RATE_LIMIT: '3' } });
    sms = t.get(SmsService);
  });
  afterAll(() => t.close());

  const history = async (tenant: number) =>
    (
      await t
        .http()
        .get('/api/sms/history')
        .set(t.auth({ tenant, roles: ['admin'] }))
        .expect(200)
    ).body.items;

  it('stores, reads and deletes an appointment, tenant-scoped', async () => {
    const tenant = freshTenantId();
    const body = {
      user_id: 456,
      phone_number: '0532 123 45 67',
      starts_at: '2026-12-15T11:00:00Z',
      trainer_name: 'John Doe',
      location: 'Training Room A',
      language: 'tr',
      timezone: 'Europe/Istanbul',
    };
    // national numbers need the country; give E.164 instead
    await t.http().put('/api/sms/appointments/123').set(t.auth({ tenant })).send(body).expect(400);
    const created = await t
      .http()
      .put('/api/sms/appointments/123')
      .set(t.auth({ tenant }))
      .send({ ...body, phone_number: '+905321234567' })
      .expect(201);
    expect(created.body).toMatchObject({
      appointment_id: '123',
      user_id: '456',
      phone_number: '+905321234567',
      timezone: 'Europe/Istanbul',
    });
    await t
      .http()
      .put('/api/sms/appointments/123')
      .set(t.auth({ tenant }))
      .send({ ...body, phone_number: '+905321234567', location: 'Room B' })
      .expect(200);
    expect(
      (await t.http().get('/api/sms/appointments/123').set(t.auth({ tenant })).expect(200)).body.location,
    ).toBe('Room B');
    await t
      .http()
      .get('/api/sms/appointments/123')
      .set(t.auth({ tenant: freshTenantId() }))
      .expect(404);
    await t
      .http()
      .put('/api/sms/appointments/9')
      .set(t.auth({ tenant }))
      .send({ ...body, phone_number: '+905321234567', timezone: 'Mars/Olympus' })
      .expect(400);
    await t.http().delete('/api/sms/appointments/123').set(t.auth({ tenant })).expect(204);
    await t.http().get('/api/sms/appointments/123').set(t.auth({ tenant })).expect(404);
  });

  it('sends an appointment reminder looked up by id, in the appointment’s zone and language', async () => {
    const tenant = freshTenantId();
    await allowCountries(t, tenant, ['US', 'TR']);
    await t
      .http()
      .put('/api/sms/appointments/apt-1')
      .set(t.auth({ tenant }))
      .send({
        user_id: '456',
        phone_number: '+905321234567',
        starts_at: '2026-12-15T11:00:00Z',
        trainer_name: 'John Doe',
        location: 'Eğitim Odası A',
        language: 'tr',
        timezone: 'Europe/Istanbul',
      })
      .expect(201);
    const out = await sms.sendAppointmentReminder(
      { tenantId: tenant, userId: 'svc' },
      { appointmentId: 'apt-1' },
    );
    expect(out).toEqual({ success: true, messageId: expect.any(String) });
    await waitForStatus(t, { tenant, roles: ['admin'] }, out.messageId as string, 'delivered');
    const [msg] = await history(tenant);
    expect(msg).toMatchObject({
      template_id: 'appointment_reminder',
      language: 'tr',
      phone_number: '+905321234567',
      user_id: '456',
    });
    expect(msg.body).toBe('Hatırlatma: John Doe ile randevunuz 15 Aralık 2026 saat 14:00, Eğitim Odası A.');
    const apt = await t.http().get('/api/sms/appointments/apt-1').set(t.auth({ tenant })).expect(200);
    expect(apt.body.reminder_sent_at).not.toBeNull();
  });

  it('sends one reminder per appointment start: a second call answers the first message', async () => {
    const tenant = freshTenantId();
    const apt = {
      phone_number: '+12025550123',
      starts_at: '2026-12-15T11:00:00Z',
      trainer_name: 'John Doe',
      location: 'Training Room A',
    };
    await t.http().put('/api/sms/appointments/apt-2').set(t.auth({ tenant })).send(apt).expect(201);
    const actor = { tenantId: tenant, userId: 'svc' };
    const first = await sms.sendAppointmentReminder(actor, { appointmentId: 'apt-2' });
    const again = await sms.sendAppointmentReminder(actor, { appointmentId: 'apt-2', language: 'tr' });
    expect(again).toEqual(first);
    expect(await history(tenant)).toHaveLength(1);
    await t
      .http()
      .put('/api/sms/appointments/apt-2')
      .set(t.auth({ tenant }))
      .send({ ...apt, starts_at: '2026-12-16T11:00:00Z' })
      .expect(200);
    const moved = await sms.sendAppointmentReminder(actor, { appointmentId: 'apt-2' });
    expect(moved.success).toBe(true);
    expect(moved.messageId).not.toBe(first.messageId);
  });

  it('clears reminder_sent_at when an appointment moves, and keeps it when only the room changes', async () => {
    const tenant = freshTenantId();
    const apt = {
      phone_number: '+12025550123',
      starts_at: '2026-12-15T11:00:00Z',
      trainer_name: 'John Doe',
      location: 'Training Room A',
    };
    const put = (body: object) =>
      t.http().put('/api/sms/appointments/apt-3').set(t.auth({ tenant })).send(body);
    await put(apt).expect(201);
    await sms.sendAppointmentReminder({ tenantId: tenant, userId: 'svc' }, { appointmentId: 'apt-3' });
    expect((await put({ ...apt, location: 'Room B' }).expect(200)).body.reminder_sent_at).not.toBeNull();
    expect(
      (await put({ ...apt, starts_at: '2026-12-16T11:00:00Z' }).expect(200)).body.reminder_sent_at,
    ).toBeNull();
  });

  it('sends password reset and 2FA codes that verify, with the code redacted', async () => {
    const tenant = freshTenantId();
    const reset = await sms.sendPasswordResetCode(
      { tenantId: tenant, userId: 'svc' },
      { phoneNumber: '+12025550123', resetCode: '123456', userId: '456', language: 'en' },
    );
    const twoFa = await sms.send2faCode(
      { tenantId: tenant, userId: 'svc' },
      { phoneNumber: '+12025550123', authCode: '987654', userId: '456', language: 'tr' },
    );
    expect(reset.success && twoFa.success).toBe(true);
    const check = (purpose: string, code: string) =>
      t
        .http()
        .post('/api/sms/verification/check')
        .set(t.auth({ tenant }))
        .send({ phone_number: '+12025550123', purpose, code })
        .expect(200);
    expect((await check('password_reset', '123456')).body.valid).toBe(true);
    expect((await check('2fa', '987654')).body.valid).toBe(true);
    const bodies = (await history(tenant)).map((m: { body: string }) => m.body);
    expect(bodies).toEqual([
      'Doğrulama kodunuz: ******. Bu kodu kimseyle paylaşmayın.',
      'Your password reset code is ******. Do not share it with anyone.',
    ]);
  });

  it('stores a code sent through SmsService with the id of the message that carried it', async () => {
    const tenant = freshTenantId();
    const out = await sms.send2faCode(
      { tenantId: tenant, userId: 'svc' },
      { phoneNumber: '+12025550124', authCode: '246810' },
    );
    expect(out.success).toBe(true);
    const rows = await t
      .get(DataSource)
      .query('SELECT message_id FROM sms_verification_codes WHERE tenant_id = $1 AND purpose = $2', [
        tenant,
        '2fa',
      ]);
    expect(rows).toEqual([{ message_id: out.messageId }]);
  });

  it('sends assessment notifications and plain notifications', async () => {
    const tenant = freshTenantId();
    const a = await sms.sendAssessmentNotification(
      { tenantId: tenant, userId: 'svc' },
      { phoneNumber: '+12025550123', assessmentName: 'Safety Basics', dueDate: 'March 20, 2024' },
    );
    const n = await sms.sendNotification(
      { tenantId: tenant, userId: 'svc' },
      { phoneNumber: '+12025550123', message: 'Training session rescheduled' },
    );
    expect(a.success && n.success).toBe(true);
    const bodies = (await history(tenant)).map((m: { body: string }) => m.body);
    expect(bodies).toEqual([
      'Training session rescheduled',
      'Your assessment "Safety Basics" is due on March 20, 2024.',
    ]);
  });

  it('answers {success: false, error} instead of throwing: bad number, unknown appointment, rate limit, inactive tenant', async () => {
    const tenant = freshTenantId();
    const actor = { tenantId: tenant, userId: 'limited' };
    expect(await sms.sendNotification(actor, { phoneNumber: '+1234567890', message: 'x' })).toMatchObject({
      success: false,
      messageId: null,
      error: { code: 'validation_failed' },
    });
    expect(await sms.sendAppointmentReminder(actor, { appointmentId: 'nope' })).toMatchObject({
      success: false,
      error: { code: 'not_found' },
    });
    for (let i = 0; i < 3; i++)
      expect(
        (await sms.sendNotification(actor, { phoneNumber: '+12025550123', message: `m${i}` })).success,
      ).toBe(true);
    expect(await sms.sendNotification(actor, { phoneNumber: '+12025550123', message: 'over' })).toMatchObject(
      { success: false, error: { code: 'rate_limited' } },
    );
    await t
      .http()
      .patch(`/api/sms/tenants/${tenant}`)
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({ active: false })
      .expect(200);
    expect(
      await sms.sendNotification(
        { tenantId: tenant, userId: 'other' },
        { phoneNumber: '+12025550123', message: 'x' },
      ),
    ).toMatchObject({ success: false, error: { code: 'tenant_inactive' } });
  });

  it('refuses a free-text notification of a code type, whose code could not be redacted', async () => {
    const out = await sms.sendNotification(
      { tenantId: freshTenantId(), userId: 'svc' },
      { phoneNumber: '+12025550123', message: 'Your code is 123456', messageType: '2fa_code' },
    );
    expect(out).toMatchObject({ success: false, error: { code: 'validation_failed' } });
  });

  it('refuses a reset code that is not 4 to 10 digits', async () => {
    const out = await sms.sendPasswordResetCode(
      { tenantId: freshTenantId(), userId: 'svc' },
      { phoneNumber: '+12025550123', resetCode: 'abc' },
    );
    expect(out).toMatchObject({ success: false, error: { code: 'validation_failed' } });
  });

  it('validates phone numbers like the brief', () => {
    expect(sms.validatePhoneNumber('234-567-8900', 'US')).toEqual({
      isValid: true,
      formatted: '+12345678900',
    });
    expect(sms.validatePhoneNumber('+1234567890')).toMatchObject({ isValid: false, formatted: null });
  });
});
