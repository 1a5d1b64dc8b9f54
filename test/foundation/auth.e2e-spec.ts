import { createHmac } from 'node:crypto';
import { signToken } from '../../src/auth/tokens';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

function b64(o: object): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

describe('authentication and tenancy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const validate = (headers: Record<string, string>) =>
    t.http().post('/api/sms/validate-phone').set(headers).send({ phone_number: '+12025550123' });

  it('accepts a valid HS256 token', async () => {
    await validate(t.auth({ tenant: freshTenantId() })).expect(200);
  });

  it.each([
    ['no Authorization header', {}],
    ['a malformed token', { Authorization: 'Bearer not.a.jwt' }],
    ['a non-bearer scheme', { Authorization: 'Basic dXNlcjpwYXNz' }],
  ])('answers 401 to %s', async (_name, headers) => {
    const res = await validate(headers).expect(401);
    expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
  });

  it('answers 401 to an expired token', async () => {
    const token = signToken({ sub: '1', tenant_id: 1, roles: [] }, t.config.get('JWT_SECRET'), {
      now: Date.now() - 7200_000,
      expiresInSeconds: 60,
    });
    const res = await validate({ Authorization: `Bearer ${token}` }).expect(401);
    expect(res.body.message).toBe('token expired');
  });

  it('answers 401 to a token signed with another secret', async () => {
    const token = signToken(
      { sub: '1', tenant_id: 1, roles: [] },
      'another-secret-that-is-long-enough-000000',
    );
    await validate({ Authorization: `Bearer ${token}` }).expect(401);
  });

  it('answers 401 to an alg:none token', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '1', tenant_id: 1, exp: Date.now() / 1000 + 60 })}.`;
    await validate({ Authorization: `Bearer ${token}` }).expect(401);
  });

  it('answers 401 to an HS512 token even with the right secret', async () => {
    const head = b64({ alg: 'HS512', typ: 'JWT' });
    const body = b64({ sub: '1', tenant_id: 1, roles: [], exp: Math.floor(Date.now() / 1000) + 60 });
    const sig = createHmac('sha512', t.config.get('JWT_SECRET'))
      .update(`${head}.${body}`)
      .digest('base64url');
    await validate({ Authorization: `Bearer ${head}.${body}.${sig}` }).expect(401);
  });

  it('answers 401 to a token without tenant_id', async () => {
    const token = signToken({ sub: '1', roles: [] } as never, t.config.get('JWT_SECRET'));
    const res = await validate({ Authorization: `Bearer ${token}` }).expect(401);
    expect(res.body.message).toBe('token has no valid tenant_id');
  });

  it('tells a caller who the token says they are', async () => {
    const tenant = freshTenantId();
    const res = await t
      .http()
      .get('/api/sms/me')
      .set(t.auth({ tenant, user: 'u-9', roles: ['admin'] }))
      .expect(200);
    expect(res.body).toEqual({ user_id: 'u-9', tenant_id: tenant, roles: ['admin'], test_mode: false });
  });

  it('answers 401 to a token whose sub is longer than 64 characters', async () => {
    const token = signToken({ sub: 'u'.repeat(65), tenant_id: 1, roles: [] }, t.config.get('JWT_SECRET'));
    const res = await validate({ Authorization: `Bearer ${token}` }).expect(401);
    expect(res.body.message).toBe('token sub is longer than 64 characters');
  });

  it('creates a tenant named in a valid token on first use', async () => {
    const tenant = freshTenantId();
    await validate(t.auth({ tenant })).expect(200);
    const res = await t
      .http()
      .get(`/api/sms/tenants/${tenant}`)
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .expect(200);
    expect(res.body).toMatchObject({ id: tenant, active: true });
  });

  it('answers 403 once a tenant is deactivated, and serves it again when reactivated', async () => {
    const tenant = freshTenantId();
    const root = t.auth({ tenant: 1, roles: ['super_admin'] });
    await validate(t.auth({ tenant })).expect(200);
    await t.http().patch(`/api/sms/tenants/${tenant}`).set(root).send({ active: false }).expect(200);
    const res = await validate(t.auth({ tenant })).expect(403);
    expect(res.body.message).toBe(`tenant ${tenant} is deactivated`);
    await t.http().patch(`/api/sms/tenants/${tenant}`).set(root).send({ active: true }).expect(200);
    await validate(t.auth({ tenant })).expect(200);
  });

  it('lets only a super_admin manage tenants', async () => {
    const tenant = freshTenantId();
    await t
      .http()
      .get('/api/sms/tenants')
      .set(t.auth({ tenant, roles: ['admin'] }))
      .expect(403);
    await t
      .http()
      .post('/api/sms/tenants')
      .set(t.auth({ tenant }))
      .send({ id: tenant + 1, name: 'x' })
      .expect(403);
  });

  it('creates, lists and updates tenants with settings as a super_admin', async () => {
    const id = freshTenantId();
    const root = t.auth({ tenant: 1, roles: ['super_admin'] });
    const created = await t
      .http()
      .post('/api/sms/tenants')
      .set(root)
      .send({ id, name: 'Ankara Training Centre', settings: { rate_limit: 50, default_language: 'tr' } })
      .expect(201);
    expect(created.body).toMatchObject({
      id,
      name: 'Ankara Training Centre',
      settings: { rate_limit: 50, default_language: 'tr' },
    });
    await t.http().post('/api/sms/tenants').set(root).send({ id, name: 'again' }).expect(409);
    const patched = await t
      .http()
      .patch(`/api/sms/tenants/${id}`)
      .set(root)
      .send({ settings: { admin_rate_limit: 500 } })
      .expect(200);
    expect(patched.body.settings).toEqual({ rate_limit: 50, default_language: 'tr', admin_rate_limit: 500 });
    const list = await t.http().get('/api/sms/tenants').set(root).expect(200);
    expect(list.body.map((x: { id: number }) => x.id)).toContain(id);
  });

  it('rejects bad tenant settings with a 400 naming the field', async () => {
    const res = await t
      .http()
      .post('/api/sms/tenants')
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({ id: freshTenantId(), name: 'x', settings: { rate_limit: 'lots' } })
      .expect(400);
    expect(res.body.details).toEqual([{ field: 'settings.rate_limit', errors: expect.any(Array) }]);
  });

  it('answers 404 for an unknown tenant', async () => {
    await t
      .http()
      .get('/api/sms/tenants/2147483000')
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .expect(404);
  });

  it('lets a super_admin act for another tenant with X-Tenant-Id, and nobody else', async () => {
    const other = freshTenantId();
    await validate({ ...t.auth({ tenant: 1, roles: ['super_admin'] }), 'X-Tenant-Id': String(other) }).expect(
      200,
    );
    await validate({ ...t.auth({ tenant: 1, roles: ['admin'] }), 'X-Tenant-Id': String(other) }).expect(403);
    await validate({ ...t.auth({ tenant: 1, roles: ['super_admin'] }), 'X-Tenant-Id': 'abc' }).expect(400);
  });
});
