import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';

describe('per-token request rate (issue 8, item 14)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SMS_REQUEST_RATE_LIMIT: '5' } });
  });
  afterAll(() => t.close());

  const me = (who: TokenOptions) => t.http().get('/api/sms/me').set(t.auth(who));

  it('answers 429 with Retry-After and the shared body past SMS_REQUEST_RATE_LIMIT per minute', async () => {
    const who = { tenant: freshTenantId(), user: 'flood' };
    for (let i = 0; i < 5; i++) await me(who).expect(200);
    const res = await me(who).expect(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'too many requests: more than 5 per minute for this token',
      details: [
        {
          rule: 'request_rate_limit',
          errors: ['too many requests: more than 5 per minute for this token'],
          limit: 5,
          window_seconds: 60,
          retry_after_seconds: retryAfter,
        },
      ],
    });
  });

  it('counts requests that fail validation or roles, so a flood of bad requests still costs its sender', async () => {
    const who = { tenant: freshTenantId(), user: 'bad-input' };
    for (let i = 0; i < 3; i++)
      await t.http().post('/api/sms/send').set(t.auth(who)).send({ message: 'x\u0000' }).expect(400);
    for (let i = 0; i < 2; i++) await t.http().get('/api/sms/tenants').set(t.auth(who)).expect(403);
    await me(who).expect(429);
  });

  it('keys by the token (tenant and sub), not by IP: other users and tenants keep their own allowance', async () => {
    const tenant = freshTenantId();
    const who = { tenant, user: 'a' };
    for (let i = 0; i < 6; i++) await me(who);
    await me(who).expect(429);
    await me({ tenant, user: 'b' }).expect(200);
    await me({ tenant: freshTenantId(), user: 'a' }).expect(200);
  });

  it('does not count public routes', async () => {
    for (let i = 0; i < 8; i++) await t.http().get('/health').expect(200);
  });

  it('lets exactly the limit through when requests race', async () => {
    const who = { tenant: freshTenantId(), user: 'race' };
    const res = await Promise.all(Array.from({ length: 12 }, () => me(who)));
    expect(res.filter((r) => r.status === 200)).toHaveLength(5);
    expect(res.filter((r) => r.status === 429)).toHaveLength(7);
  });
});
