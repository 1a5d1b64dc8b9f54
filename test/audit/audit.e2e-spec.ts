import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit';
import { Principal } from '../../src/auth/principal';
import { Clock } from '../../src/common/clock';
import { RetentionJob } from '../../src/jobs/retention.job';
import { FakeClock } from '../support/fake-clock';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

interface Entry {
  id: string;
  at: string;
  tenant_id: number;
  actor_sub: string;
  actor_tenant_id: number;
  actor_roles: string[];
  request_id: string | null;
  client_request_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

const DAY = 86_400_000;

/** Issue 8 item 16: every administrative change is recorded once, append-only, readable by admins. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('audit trail', () => {
  let t: TestApp;
  let ds: DataSource;
  const clock = new FakeClock();
  beforeAll(async () => {
    t = await createTestApp({
      env: { SMS_RETENTION_DAYS: '30', SMS_AUDIT_RETENTION_DAYS: '400' },
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  const adminOf = (tenant: number, user = 'boss') => ({ tenant, user, roles: ['admin'] });
  const superAdmin = { tenant: 1, user: 'root', roles: ['super_admin'] };
  const audit = async (who: object, query: Record<string, string | number> = {}): Promise<Entry[]> =>
    (
      await t
        .http()
        .get('/api/sms/audit')
        .query(query)
        .set(t.auth(who as never))
        .expect(200)
    ).body.items;

  const template = {
    template_id: 'welcome_message',
    name: 'Welcome',
    content_en: 'Welcome {{name}}!',
    message_type: 'general_notification',
    variables: ['name'],
  };

  it("records the service's own request id when a caller repeats a UUID-shaped X-Request-Id", async () => {
    const who = adminOf(freshTenantId());
    const reused = '3f1c9a52-6b7d-4e21-9a0f-5c2d8e7b1a64';
    for (const name of ['First', 'Second'])
      await t
        .http()
        .post('/api/sms/templates')
        .set(t.auth(who))
        .set('X-Request-Id', reused)
        .send({ ...template, template_id: `t_${name.toLowerCase()}`, name })
        .expect(201);
    const entries = await audit(who, { target_type: 'template' });
    expect(entries).toHaveLength(2);
    expect(entries.map((e) => e.client_request_id)).toEqual([reused, reused]);
    expect(new Set(entries.map((e) => e.request_id)).size).toBe(2);
    for (const e of entries) expect(e.request_id).not.toBe(reused);
  });

  it('records template create, PUT, PATCH and delete once each, with who, what and the request id', async () => {
    const tenant = freshTenantId();
    const who = adminOf(tenant);
    const created = await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .set('X-Request-Id', 'req-create-1')
      .send(template)
      .expect(201);
    // The request id is the service's own; the caller's is kept beside it.
    expect(created.headers['x-request-id']).toMatch(UUID);
    expect(created.headers['x-client-request-id']).toBe('req-create-1');
    await t
      .http()
      .put('/api/sms/templates/welcome_message')
      .set(t.auth(who))
      .send({ ...template, template_id: undefined, name: 'Welcome 2' })
      .expect(200);
    await t
      .http()
      .patch('/api/sms/templates/welcome_message')
      .set(t.auth(who))
      .send({ content_en: 'Hi {{name}}' })
      .expect(200);
    // refused inside the transaction: nothing recorded
    await t
      .http()
      .patch('/api/sms/templates/welcome_message')
      .set(t.auth(who))
      .send({ content_en: 'Hi {{nom}}' })
      .expect(400);
    await t.http().delete('/api/sms/templates/welcome_message').set(t.auth(who)).expect(204);

    const entries = (await audit(who, { target_type: 'template' })).reverse();
    expect(entries.map((e) => e.action)).toEqual([
      'template.create',
      'template.update',
      'template.update',
      'template.delete',
    ]);
    const [create, put, patch, del] = entries;
    expect(create).toMatchObject({
      tenant_id: tenant,
      actor_sub: 'boss',
      actor_tenant_id: tenant,
      actor_roles: ['admin'],
      request_id: created.headers['x-request-id'],
      client_request_id: 'req-create-1',
      target_id: 'welcome_message',
      before: null,
      after: { name: 'Welcome', version: 1, is_active: true, content: { en: 'Welcome {{name}}!' } },
    });
    expect(put.before).toMatchObject({ name: 'Welcome', version: 1 });
    expect(put.after).toMatchObject({ name: 'Welcome 2', version: 2 });
    expect(put.request_id).toMatch(UUID);
    expect(put.request_id).not.toBe(create.request_id);
    expect(put.client_request_id).toBeNull();
    expect(patch.before).toMatchObject({ content: { en: 'Welcome {{name}}!' } });
    expect(patch.after).toMatchObject({ content: { en: 'Hi {{name}}' }, version: 3 });
    expect(del.before).toMatchObject({ is_active: true, version: 3 });
    expect(del.after).toMatchObject({ is_active: false, version: 4 });
  });

  it('records admin opt-outs added and removed (a repeated add changes nothing and is not recorded)', async () => {
    const who = adminOf(freshTenantId());
    const add = () =>
      t
        .http()
        .post('/api/sms/opt-outs')
        .set(t.auth(who))
        .send({ phone_number: '+12025550111', reason: 'asked by phone' })
        .expect(204);
    await add();
    await add();
    await t.http().delete('/api/sms/opt-outs/+12025550111').set(t.auth(who)).expect(204);
    const entries = (await audit(who, { target_type: 'opt_out' })).reverse();
    expect(entries.map((e) => [e.action, e.target_id])).toEqual([
      ['opt_out.add', '+12025550111'],
      ['opt_out.remove', '+12025550111'],
    ]);
    expect(entries[0]).toMatchObject({
      before: null,
      after: { phone_number: '+12025550111', source: 'admin:boss', reason: 'asked by phone' },
    });
    expect(entries[1]).toMatchObject({ before: { source: 'admin:boss' }, after: null });
  });

  it('records appointments created, changed and deleted', async () => {
    const tenant = freshTenantId();
    const user = { tenant, user: 'svc' };
    const body = {
      phone_number: '+905321234567',
      starts_at: '2026-12-15T11:00:00Z',
      trainer_name: 'John Doe',
      location: 'Room A',
    };
    const put = (b: object) => t.http().put('/api/sms/appointments/ap-1').set(t.auth(user)).send(b);
    await put(body).expect(201);
    await put({ ...body, phone_number: '+12025550123' }).expect(200);
    await t.http().delete('/api/sms/appointments/ap-1').set(t.auth(user)).expect(204);
    const entries = (await audit(adminOf(tenant), { target_id: 'ap-1' })).reverse();
    expect(entries.map((e) => e.action)).toEqual([
      'appointment.create',
      'appointment.update',
      'appointment.delete',
    ]);
    expect(entries[1]).toMatchObject({
      actor_sub: 'svc',
      before: { phone_number: '+905321234567', created_by: 'svc' },
      after: { phone_number: '+12025550123', starts_at: '2026-12-15T11:00:00.000Z' },
    });
    expect(entries[2]).toMatchObject({ before: { appointment_id: 'ap-1' }, after: null });
  });

  it("records tenants created and their settings changed under that tenant, visible to the tenant's admin", async () => {
    const id = freshTenantId();
    await t
      .http()
      .post('/api/sms/tenants')
      .set(t.auth(superAdmin))
      .send({ id, name: 'Ankara', settings: { rate_limit: 10 } })
      .expect(201);
    await t
      .http()
      .patch(`/api/sms/tenants/${id}`)
      .set(t.auth(superAdmin))
      .send({ settings: { default_language: 'tr' } })
      .expect(200);
    const entries = (await audit(adminOf(id), { target_type: 'tenant' })).reverse();
    expect(entries.map((e) => e.action)).toEqual(['tenant.create', 'tenant.update']);
    expect(entries[0]).toMatchObject({
      tenant_id: id,
      actor_sub: 'root',
      actor_tenant_id: 1,
      actor_roles: ['super_admin'],
      before: null,
      after: { name: 'Ankara', settings: { rate_limit: 10 } },
    });
    expect(entries[1]).toMatchObject({
      before: { settings: { rate_limit: 10 } },
      after: { settings: { rate_limit: 10, default_language: 'tr' } },
    });
  });

  it('redacts secrets, tokens, passwords, codes and auth values, in the row as in the answer', async () => {
    const tenant = freshTenantId();
    const actor: Principal = { userId: 'u', homeTenantId: tenant, tenantId: tenant, roles: ['admin'] };
    await t.get(AuditService).record(
      actor,
      'webhook_endpoint.update',
      { type: 'webhook_endpoint', id: 7 },
      { url: 'https://a.example', signing_secret: 'old-s3cret' },
      {
        url: 'https://b.example',
        signing_secret: 'new-s3cret',
        auth: { password: 'pw' },
        reset_code: '482913',
      },
    );
    const [e] = await audit(adminOf(tenant), { action: 'webhook_endpoint.update' });
    expect(e.before).toEqual({ url: 'https://a.example', signing_secret: '[redacted]' });
    expect(e.after).toEqual({
      url: 'https://b.example',
      signing_secret: '[redacted]',
      auth: '[redacted]',
      reset_code: '[redacted]',
    });
    const raw = JSON.stringify(await ds.query('SELECT * FROM sms_audit_log WHERE tenant_id = $1', [tenant]));
    for (const secret of ['s3cret', 'pw"', '482913']) expect(raw).not.toContain(secret);
  });

  it('never records a verification code', async () => {
    const tenant = freshTenantId();
    await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth({ tenant, user: 'u' }))
      .send({ phone_number: '+12025550177', purpose: '2fa', code: '975310' })
      .expect(202);
    const raw = JSON.stringify(await ds.query('SELECT * FROM sms_audit_log'));
    expect(raw).not.toContain('975310');
  });

  it("keeps one tenant's trail from another tenant's admin; plain users get 403", async () => {
    const a = freshTenantId();
    const b = freshTenantId();
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(adminOf(a)))
      .send(template)
      .expect(201);
    const [mine] = await audit(adminOf(a), { target_type: 'template' });
    expect(mine.tenant_id).toBe(a);
    expect(await audit(adminOf(b))).toEqual([]);
    expect(await audit(adminOf(b), { target_id: 'welcome_message' })).toEqual([]);
    await t
      .http()
      .get(`/api/sms/audit/${mine.id}`)
      .set(t.auth(adminOf(b)))
      .expect(404);
    await t
      .http()
      .get(`/api/sms/audit/${mine.id}`)
      .set(t.auth(adminOf(a)))
      .expect(200);
    await t
      .http()
      .get('/api/sms/audit')
      .query({ tenant_id: a })
      .set(t.auth(adminOf(b)))
      .expect(403);
    await t
      .http()
      .get('/api/sms/audit')
      .set(t.auth({ tenant: a, user: 'plain' }))
      .expect(403);
    await t
      .http()
      .get(`/api/sms/audit/${mine.id}`)
      .set(t.auth({ tenant: a, user: 'plain' }))
      .expect(403);
  });

  it('lets a super_admin read across tenants and narrow with tenant_id', async () => {
    const a = freshTenantId();
    const b = freshTenantId();
    for (const tenant of [a, b])
      await t
        .http()
        .post('/api/sms/templates')
        .set(t.auth(adminOf(tenant, `admin-${tenant}`)))
        .send(template)
        .expect(201);
    const all = await audit(superAdmin, { action: 'template.create', limit: 200 });
    expect(all.map((e) => e.tenant_id)).toEqual(expect.arrayContaining([a, b]));
    const onlyB = await audit(superAdmin, { tenant_id: b });
    expect(onlyB.map((e) => [e.tenant_id, e.actor_sub])).toEqual([[b, `admin-${b}`]]);
    expect(await audit(superAdmin, { actor: `admin-${a}` })).toHaveLength(1);
    await t.http().get(`/api/sms/audit/${onlyB[0].id}`).set(t.auth(superAdmin)).expect(200);
  });

  it('pages with a cursor, newest first, and filters by time', async () => {
    const tenant = freshTenantId();
    const who = adminOf(tenant);
    for (let i = 0; i < 5; i++)
      await t
        .http()
        .post('/api/sms/opt-outs')
        .set(t.auth(who))
        .send({ phone_number: `+1202555030${i}` })
        .expect(204);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await t
        .http()
        .get('/api/sms/audit')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(t.auth(who))
        .expect(200);
      seen.push(...res.body.items.map((e: Entry) => e.target_id));
      cursor = res.body.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([4, 3, 2, 1, 0].map((i) => `+1202555030${i}`));
    const future = new Date(Date.now() + DAY).toISOString();
    expect(await audit(who, { from: future })).toEqual([]);
    expect(await audit(who, { to: future })).toHaveLength(5);
  });

  it('answers 400 to a bad cursor or an absurd date, naming the field', async () => {
    const who = adminOf(freshTenantId());
    const bad = Buffer.from('2026-01-01T00:00:00Z|not-a-number').toString('base64url');
    const res = await t.http().get('/api/sms/audit').query({ cursor: bad }).set(t.auth(who)).expect(400);
    expect(res.body.details[0].field).toBe('cursor');
    const r2 = await t
      .http()
      .get('/api/sms/audit')
      .query({ from: '-271821-04-20T00:00:00Z' })
      .set(t.auth(who))
      .expect(400);
    expect(JSON.stringify(r2.body)).toContain('from');
    await t.http().get('/api/sms/audit/abc').set(t.auth(who)).expect(404);
  });

  it('is documented in Swagger with its filters', async () => {
    const doc = (await t.http().get('/api/docs-json').expect(200)).body;
    const list = doc.paths['/api/sms/audit'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining([
        'tenant_id',
        'action',
        'actor',
        'target_type',
        'target_id',
        'from',
        'to',
        'cursor',
      ]),
    );
    expect(list.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/AuditPageDto',
    );
    expect(doc.paths['/api/sms/audit/{id}'].get).toBeDefined();
  });

  it('is append-only: an UPDATE of an entry is refused by the database', async () => {
    await expect(ds.query(`UPDATE sms_audit_log SET action = 'x.y'`)).rejects.toThrow(/append-only/);
  });

  it('outlives message retention: the daily job purges entries only after SMS_AUDIT_RETENTION_DAYS', async () => {
    const tenant = freshTenantId();
    const who = adminOf(tenant);
    const addAt = async (daysAgo: number, phone: string) => {
      clock.advance(-daysAgo * DAY);
      try {
        await t.http().post('/api/sms/opt-outs').set(t.auth(who)).send({ phone_number: phone }).expect(204);
      } finally {
        clock.advance(daysAgo * DAY);
      }
    };
    await addAt(401, '+12025550401');
    await addAt(100, '+12025550100');
    const result = await t.get(RetentionJob).run();
    expect(result.auditEntries).toBeGreaterThanOrEqual(1);
    expect((await audit(who)).map((e) => e.target_id)).toEqual(['+12025550100']);
  });
});
