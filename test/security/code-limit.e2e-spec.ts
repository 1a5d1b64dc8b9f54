import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/**
 * The per-number code limit (issue 8, item 7): every path that sends a code message
 * (password_reset, 2fa_code) counts against the same SMS_CODE_SENDS_PER_HOUR, once.
 */
describe('per-number code limit on every path', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The default SMS_CODE_SENDS_PER_HOUR (5).
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
  });
  afterAll(() => t.close());

  let n = 0;
  const next = () => ({
    who: { tenant: freshTenantId(), user: 'u1' },
    // different ranges, so the per-prefix velocity limit stays out of the way
    phone: `+1${[202, 312, 415, 617, 713, 305][n % 6]}555${String(1000 + ++n)}`,
  });
  const templated = (
    who: { tenant: number },
    phone_number: string,
    template_id = '2fa_code',
    key?: string,
  ) => {
    const req = t.http().post('/api/sms/send-templated').set(t.auth(who));
    if (key) req.set('Idempotency-Key', key);
    return req.send({ phone_number, template_id, variables: { code: '246810' } });
  };
  const code = (who: { tenant: number }, phone_number: string, purpose = '2fa') =>
    t.http().post('/api/sms/verification/send').set(t.auth(who)).send({ phone_number, purpose });
  const stored = async (who: { tenant: number }) =>
    (
      await t
        .http()
        .get('/api/sms/history?limit=200')
        .set(t.auth({ ...who, roles: ['admin'] }))
        .expect(200)
    ).body.items as { phone_number: string }[];

  it('refuses the 6th send-templated 2fa_code to one number like /verification/send would', async () => {
    const { who, phone } = next();
    for (let i = 0; i < 5; i++) await templated(who, phone).expect(202);
    const res = await templated(who, phone).expect(429);
    expect(res.body.message).toContain('verification codes for this number');
    expect(res.body.details).toEqual([
      expect.objectContaining({ field: 'phone_number', rule: 'code_number_limit', limit: 5, used: 5 }),
    ]);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // the verification route is refused for that number too: one count
    const viaCode = await code(who, phone).expect(429);
    expect(viaCode.body.details[0].rule).toBe('code_number_limit');
    expect(await stored(who)).toHaveLength(5);
  });

  it('counts password_reset templates, verification codes and templated sends together', async () => {
    const { who, phone } = next();
    await code(who, phone).expect(202);
    await code(who, phone, 'password_reset').expect(202);
    await templated(who, phone, 'password_reset').expect(202);
    await templated(who, phone).expect(202);
    await code(who, phone).expect(202);
    await templated(who, phone, 'password_reset').expect(429);
    await code(who, phone).expect(429);
    expect(await stored(who)).toHaveLength(5);
  });

  it('counts a /verification/send once (5 pass, the 6th is refused)', async () => {
    const { who, phone } = next();
    for (let i = 0; i < 5; i++) await code(who, phone).expect(202);
    await code(who, phone).expect(429);
  });

  it('leaves other message types and other numbers alone', async () => {
    const { who, phone } = next();
    for (let i = 0; i < 5; i++) await templated(who, phone).expect(202);
    await templated(who, phone).expect(429);
    await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(who))
      .send({ phone_number: phone, template_id: 'general_notification', variables: { message: 'hello' } })
      .expect(202);
    await templated(who, next().phone).expect(202);
    await templated({ tenant: freshTenantId() }, phone).expect(202);
  });

  it('takes nothing for an idempotent replay or a refused send', async () => {
    const { who, phone } = next();
    for (let i = 0; i < 3; i++) await templated(who, phone, '2fa_code', 'same-key').expect(202);
    await t
      .http()
      .post('/api/sms/opt-outs')
      .set(t.auth({ ...who, roles: ['admin'] }))
      .send({ phone_number: phone })
      .expect(204);
    await templated(who, phone).expect(400);
    await t
      .http()
      .delete(`/api/sms/opt-outs/${encodeURIComponent(phone)}`)
      .set(t.auth({ ...who, roles: ['admin'] }))
      .expect(204);
    for (let i = 0; i < 4; i++) await templated(who, phone).expect(202);
    await templated(who, phone).expect(429);
  });
});
