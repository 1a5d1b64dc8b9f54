import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { waitForStatus } from '../support/messages';

describe('sending through the sandbox provider', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
  });
  afterAll(() => t.close());

  it('accepts POST /api/sms/send with 202 and delivers it', async () => {
    const who = { tenant: freshTenantId(), user: 7 };
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({
        phone_number: '+12025550123',
        message: 'Your appointment is tomorrow at 2 PM',
        message_type: 'appointment_reminder',
        language: 'en',
      })
      .expect(202);
    expect(res.body).toEqual({
      success: true,
      message_id: expect.any(String),
      status: 'queued',
      segments: 1,
      encoding: 'GSM-7',
      estimated_cost: 0,
      currency: 'USD',
      test_mode: false,
      channel: 'sms',
    });
    const status = await waitForStatus(t, who, res.body.message_id, 'delivered');
    expect(status).toMatchObject({ provider: 'sandbox', attempts: 1, error_code: null, segments: 1 });
    expect(status.provider_message_id).toMatch(/^SB/);
    expect(status.events.map((e: { status: string }) => e.status)).toEqual([
      'queued',
      'sending',
      'sent',
      'delivered',
    ]);
    expect(status.sent_at).not.toBeNull();
    expect(status.delivered_at).not.toBeNull();
  });

  it('fails at once on a permanently bad number and keeps the error', async () => {
    const who = { tenant: freshTenantId() };
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+15005550001', message: 'hi' })
      .expect(202);
    const status = await waitForStatus(t, who, res.body.message_id, 'failed');
    expect(status).toMatchObject({ attempts: 1, error_code: 'sandbox:21211' });
  });

  it.each([
    ['GSM-7, 160 characters', 'a'.repeat(160), 'GSM-7', 1],
    ['GSM-7, 161 characters', 'a'.repeat(161), 'GSM-7', 2],
    ['extension characters that count twice', '{'.repeat(80), 'GSM-7', 1],
    ['extension characters over one segment', '€'.repeat(81), 'GSM-7', 2],
    [
      'Turkish text',
      'Randevunuz yarın saat 14:00’te, Eğitim Odası A’da. Lütfen zamanında gelin.',
      'UCS-2',
      2,
    ],
    ['emoji', '👍'.repeat(35), 'UCS-2', 1],
    ['emoji over one segment', '👍'.repeat(36), 'UCS-2', 2],
  ])('reports segments for %s', async (_name, message, encoding, segments) => {
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_number: '+12025550123', message })
      .expect(202);
    expect(res.body).toMatchObject({ encoding, segments });
  });

  it('rejects a body over SMS_MAX_SEGMENTS with a 400 naming the limit, storing nothing', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', message: 'x'.repeat(153 * 10 + 1) })
      .expect(400);
    expect(res.body.message).toContain('SMS_MAX_SEGMENTS=10');
    expect(res.body.details[0].field).toBe('message');
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toEqual([]);
  });

  it.each([
    ["the brief's invalid +1234567890", { phone_number: '+1234567890', message: 'hi' }, 'phone_number'],
    [
      'a code type as free text (a code in free text could not be redacted)',
      { phone_number: '+12025550123', message: 'Your code is 123456', message_type: '2fa_code' },
      'message_type',
    ],
    [
      'an unknown message_type',
      { phone_number: '+12025550123', message: 'hi', message_type: 'spam' },
      'message_type',
    ],
    ['an unknown language', { phone_number: '+12025550123', message: 'hi', language: 'de' }, 'language'],
    ['an empty message', { phone_number: '+12025550123', message: '' }, 'message'],
    ['a missing phone number', { message: 'hi' }, 'phone_number'],
  ])('answers 400 to %s', async (_name, body, field) => {
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: freshTenantId() }))
      .send(body)
      .expect(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it("shows another tenant's message as 404 on status, cancel and history", async () => {
    const a = { tenant: freshTenantId(), roles: ['admin'] };
    const b = { tenant: freshTenantId(), roles: ['admin'] };
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(a))
      .send({ phone_number: '+12025550123', message: 'mine' })
      .expect(202);
    const id = res.body.message_id;
    await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(b)).expect(404);
    await t.http().delete(`/api/sms/messages/${id}`).set(t.auth(b)).expect(404);
    const history = await t.http().get('/api/sms/history').set(t.auth(b)).expect(200);
    expect(history.body.items).toEqual([]);
    await t.http().get('/api/sms/messages/not-a-uuid/status').set(t.auth(b)).expect(404);
  });

  it('answers 404 to Twilio status callbacks when Twilio is not configured', async () => {
    await t
      .http()
      .post('/api/sms/webhooks/twilio/status')
      .type('form')
      .send({ MessageSid: 'SMx', MessageStatus: 'delivered' })
      .expect(404);
  });
});
