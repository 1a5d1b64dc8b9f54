import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

describe('API_DOCS (issue 8, item 15)', () => {
  const paths = ['/api/docs', '/api/docs-json'];

  describe('public (the default)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t.close());

    it('serves the docs without a token', async () => {
      for (const p of paths) await t.http().get(p).redirects(1).expect(200);
    });
  });

  describe('off', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { API_DOCS: 'off' } });
    });
    afterAll(() => t.close());

    it('answers 404 to the docs, even with an admin token', async () => {
      for (const p of paths) {
        const res = await t
          .http()
          .get(p)
          .set(t.auth({ tenant: freshTenantId(), roles: ['super_admin'] }))
          .expect(404);
        expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      }
    });
  });

  describe('auth', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { API_DOCS: 'auth' } });
    });
    afterAll(() => t.close());

    it('answers 401 without a valid bearer token', async () => {
      for (const p of paths) {
        const res = await t.http().get(p).expect(401);
        expect(res.body).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: 'missing or invalid bearer token',
        });
        await t.http().get(p).set('Authorization', 'Bearer not.a.jwt').expect(401);
      }
    });

    it('answers 403 to a plain user', async () => {
      for (const p of paths)
        await t
          .http()
          .get(p)
          .set(t.auth({ tenant: freshTenantId() }))
          .expect(403);
    });

    it('serves the docs to an admin or super_admin', async () => {
      const json = await t
        .http()
        .get('/api/docs-json')
        .set(t.auth({ tenant: freshTenantId(), roles: ['admin'] }))
        .expect(200);
      expect(json.body.openapi).toBeDefined();
      await t
        .http()
        .get('/api/docs')
        .redirects(1)
        .set(t.auth({ tenant: freshTenantId(), roles: ['super_admin'] }))
        .expect(200);
    });
  });
});
