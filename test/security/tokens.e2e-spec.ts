import { createHmac } from 'node:crypto';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/** Signs exactly the claims given (signToken always adds iat and exp). */
function signRaw(claims: Record<string, unknown>, secret: string): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

describe('token lifetime (issue 8, item 8)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { JWT_MAX_TTL_SECONDS: '3600' } });
  });
  afterAll(() => t.close());

  const now = () => Math.floor(Date.now() / 1000);
  const me = (claims: Record<string, unknown>) =>
    t
      .http()
      .get('/api/sms/me')
      .set('Authorization', `Bearer ${signRaw(claims, t.config.get('JWT_SECRET'))}`);
  const base = () => ({ sub: 'u1', tenant_id: freshTenantId(), roles: ['super_admin'] });

  it('refuses a token without exp', async () => {
    const res = await me({ ...base(), iat: now() }).expect(401);
    expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'token has no exp' });
  });

  it('refuses a token whose lifetime (exp - iat) exceeds JWT_MAX_TTL_SECONDS', async () => {
    const res = await me({ ...base(), iat: now(), exp: now() + 3601 }).expect(401);
    expect(res.body.message).toBe('token lifetime exceeds 3600 seconds');
  });

  it('refuses a token without iat whose exp is further away than JWT_MAX_TTL_SECONDS', async () => {
    const res = await me({ ...base(), exp: now() + 10 * 365 * 86400 }).expect(401);
    expect(res.body.message).toBe('token lifetime exceeds 3600 seconds');
  });

  it('refuses a token issued in the future beyond the clock skew', async () => {
    const res = await me({ ...base(), iat: now() + 120, exp: now() + 600 }).expect(401);
    expect(res.body.message).toBe('token iat is in the future');
  });

  it('accepts a token that expired within the 30 s clock skew, and refuses one beyond it', async () => {
    await me({ ...base(), iat: now() - 600, exp: now() - 10 }).expect(200);
    const res = await me({ ...base(), iat: now() - 600, exp: now() - 60 }).expect(401);
    expect(res.body.message).toBe('token expired');
  });

  it('accepts a token at the maximum lifetime, with or without iat', async () => {
    await me({ ...base(), iat: now(), exp: now() + 3600 }).expect(200);
    await me({ ...base(), exp: now() + 3000 }).expect(200);
  });
});
