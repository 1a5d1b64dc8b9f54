import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, LogCapture, TestApp } from '../support/test-app';

describe('verification codes', () => {
  let t: TestApp;
  const logs = new LogCapture();
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_CODE_SENDS_PER_HOUR: '3', LOG_LEVEL: 'debug' },
      logs,
    });
  });
  afterAll(() => t.close());

  const phone = (i: number) => `+1202555${String(1000 + i).padStart(4, '0')}`;
  let n = 0;
  const next = () => ({ who: { tenant: freshTenantId(), user: 'u1' }, phone: phone(++n) });

  const sendCode = (who: { tenant: number }, body: object) =>
    t.http().post('/api/sms/verification/send').set(t.auth(who)).send(body);
  const check = (who: { tenant: number }, body: object) =>
    t.http().post('/api/sms/verification/check').set(t.auth(who)).send(body).expect(200);

  it('sends a code and accepts it once', async () => {
    const { who, phone: p } = next();
    const res = await sendCode(who, { phone_number: p, purpose: '2fa', code: '246810' }).expect(202);
    expect(res.body).toMatchObject({ success: true, status: 'queued', expires_at: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toContain('246810');
    expect((await check(who, { phone_number: p, purpose: '2fa', code: '246810' })).body).toEqual({
      valid: true,
    });
    expect((await check(who, { phone_number: p, purpose: '2fa', code: '246810' })).body).toEqual({
      valid: false,
    });
  });

  it('limits codes per phone number per hour (SMS pumping) with a 429', async () => {
    const { who, phone: p } = next();
    for (let i = 0; i < 3; i++) await sendCode(who, { phone_number: p, purpose: '2fa' }).expect(202);
    const res = await sendCode({ tenant: who.tenant, user: 'someone-else' } as never, {
      phone_number: p,
      purpose: '2fa',
    }).expect(429);
    expect(res.body.message).toContain('verification codes for this number');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('stores and sends nothing when the code cannot be stored, and a retry with the same Idempotency-Key sends a code that checks', async () => {
    const { who, phone: p } = next();
    const ds = t.get(DataSource);
    // The code's row is refused after the message row was written in the same request.
    await ds.query(`CREATE FUNCTION test_refuse_code() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.phone_number = '${p}' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await ds.query(
      'CREATE TRIGGER test_refuse_code BEFORE INSERT ON sms_verification_codes FOR EACH ROW EXECUTE FUNCTION test_refuse_code()',
    );
    const send = () =>
      t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .set('Idempotency-Key', 'code-1')
        .send({ phone_number: p, purpose: '2fa', code: '135790' });
    try {
      const refused = await send();
      expect(refused.status).toBeGreaterThanOrEqual(500);
      const rows = await ds.query('SELECT id FROM sms_messages WHERE tenant_id = $1', [who.tenant]);
      expect(rows).toEqual([]); // no text goes out with a code nobody can check
    } finally {
      await ds.query('DROP TRIGGER test_refuse_code ON sms_verification_codes');
      await ds.query('DROP FUNCTION test_refuse_code()');
    }
    const res = await send().expect(202);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect((await check(who, { phone_number: p, purpose: '2fa', code: '135790' })).body).toEqual({
      valid: true,
    });
    await send().expect(202); // a replay now, of a send whose code is stored
    const rows = await ds.query('SELECT id FROM sms_messages WHERE tenant_id = $1', [who.tenant]);
    expect(rows).toHaveLength(1);
  });

  it('answers 400 to a bad purpose, phone number or code format', async () => {
    const { who, phone: p } = next();
    await sendCode(who, { phone_number: p, purpose: 'login' }).expect(400);
    await sendCode(who, { phone_number: '+1234567890', purpose: '2fa' }).expect(400);
    await sendCode(who, { phone_number: p, purpose: '2fa', code: '12ab' }).expect(400);
  });

  it('never shows or stores the clear code: history, status, events, logs, database', async () => {
    const { who, phone: p } = next();
    const code = '987123';
    const res = await sendCode(who, { phone_number: p, purpose: '2fa', code }).expect(202);
    const status = await waitForStatus(t, who, res.body.message_id, 'delivered');
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(JSON.stringify(status)).not.toContain(code);
    expect(JSON.stringify(history.body)).not.toContain(code);
    expect(history.body.items[0].body).toBe('Your verification code is ******. Do not share it with anyone.');
    await check(who, { phone_number: p, purpose: '2fa', code: '000000' });
    await check(who, { phone_number: p, purpose: '2fa', code });
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.text()).not.toContain(code);
    const ds = t.get(DataSource);
    const rows = await ds.query(
      `SELECT m.body, m.body_ciphertext, (SELECT string_agg(coalesce(payload::text, ''), ' ') FROM sms_message_events e WHERE e.message_id = m.id) AS events
         FROM sms_messages m WHERE m.id = $1`,
      [res.body.message_id],
    );
    expect(rows[0].body).not.toContain(code);
    expect(rows[0].body_ciphertext).toBeNull(); // erased once handed over
    expect(rows[0].events ?? '').not.toContain(code);
    const stored = await ds.query('SELECT code_hash FROM sms_verification_codes WHERE tenant_id = $1', [
      who.tenant,
    ]);
    expect(stored[0].code_hash).not.toContain(code);
  });

  it('keeps a caller-given code out of the idempotency record (a keyed hash, not a reversible one)', async () => {
    const { who, phone: p } = next();
    const body = { code: '864209', phone_number: p, purpose: '2fa' };
    await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(who))
      .set('Idempotency-Key', 'otp-1')
      .send(body)
      .expect(202);
    const [row] = await t
      .get(DataSource)
      .query(
        'SELECT request_hash, response::text AS response FROM sms_idempotency_keys WHERE tenant_id = $1 AND key = $2',
        [who.tenant, 'otp-1'],
      );
    const plain = createHash('sha256')
      .update(`POST /api/sms/verification/send\n${JSON.stringify(body)}`)
      .digest('hex');
    expect(row.request_hash).not.toBe(plain);
    expect(row.response).not.toContain('864209');
  });
});
