import { createTestApp, freshTenantId, LogCapture, TestApp } from '../support/test-app';

describe('errors, docs, health and logs', () => {
  let t: TestApp;
  const logs = new LogCapture();
  beforeAll(async () => {
    t = await createTestApp({ logs });
  });
  afterAll(() => t.close());

  it('rejects unknown fields with a 400 naming them, in the shared error shape', async () => {
    const res = await t
      .http()
      .post('/api/sms/validate-phone')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_number: '+12025550123', extra: 1 })
      .expect(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.stringContaining('extra'),
      details: [{ field: 'extra', errors: ['extra is not an accepted field'] }],
    });
  });

  it('names every failing field', async () => {
    const res = await t
      .http()
      .post('/api/sms/validate-phone')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_number: 5, country_code: 'USA' })
      .expect(400);
    expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'country_code',
      'phone_number',
    ]);
  });

  it('answers 400 to malformed JSON', async () => {
    const res = await t
      .http()
      .post('/api/sms/validate-phone')
      .set(t.auth({ tenant: freshTenantId() }))
      .set('Content-Type', 'application/json')
      .send('{"phone_number": ')
      .expect(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'malformed JSON body' });
  });

  it('answers 413 to a body over 1 MiB', async () => {
    const res = await t
      .http()
      .post('/api/sms/validate-phone')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_number: 'x'.repeat(1024 * 1024 + 10) })
      .expect(413);
    expect(res.body.statusCode).toBe(413);
  });

  it('answers 404 in the shared shape for an unknown route', async () => {
    const res = await t
      .http()
      .get('/api/sms/nope')
      .set(t.auth({ tenant: freshTenantId() }))
      .expect(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
  });

  it('serves liveness and readiness without a token', async () => {
    await t.http().get('/health').expect(200, { status: 'ok' });
    const res = await t.http().get('/health/ready').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.details).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
  });

  it('serves Swagger UI and the OpenAPI document with bearer auth', async () => {
    await t.http().get('/api/docs').redirects(1).expect(200);
    const res = await t.http().get('/api/docs-json').expect(200);
    expect(res.body.paths['/api/sms/validate-phone']).toBeDefined();
    expect(res.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const send = res.body.paths['/api/sms/send'].post;
    expect(Object.keys(send.responses).sort()).toEqual([
      '202',
      '400',
      '401',
      '402',
      '403',
      '404',
      '409',
      '413',
      '415',
      '422',
      '429',
      '500',
      '503',
    ]);
    expect(send.responses['400'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ErrorResponseDto',
    );
    expect(send.parameters.map((p: { name: string }) => p.name)).toContain('Idempotency-Key');
  });

  it("answers with the service's own request id, keeps the caller's beside it, and logs both but never the token", async () => {
    const token = t.token({ tenant: freshTenantId() });
    const res = await t
      .http()
      .post('/api/sms/validate-phone')
      .set('Authorization', `Bearer ${token}`)
      .set('X-Request-Id', 'req-test-123')
      .send({ phone_number: '+12025550123' })
      .expect(200);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.headers['x-client-request-id']).toBe('req-test-123');
    const line = logs.lines.map((l) => JSON.parse(l)).find((l) => l.req?.id === id);
    expect(line).toMatchObject({ clientRequestId: 'req-test-123' });
    expect(logs.text()).not.toContain(token);
    expect(logs.text()).not.toContain(t.config.get('JWT_SECRET'));
  });
});
