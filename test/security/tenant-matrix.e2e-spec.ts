import { DataSource } from 'typeorm';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';

/**
 * Issue 8, the tenant matrix: every route that takes the id of a tenant's resource, called with
 * another tenant's token and tenant A's id, answers 404 (not 403, not 200) and changes nothing.
 * A new route is one line in ROUTES.
 */

/** What tenant A owns; the routes below aim at it. */
interface Owned {
  messageId: string;
  templateId: string;
  appointmentId: string;
  optOut: string;
  auditId: string;
  /** Tenant A's own id: routes under /api/sms/tenants/{id} that its admins may use. */
  tenantId: number;
  exportId: string;
}

interface Route {
  name: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: (o: Owned) => string;
  body?: (o: Owned) => object;
  /** The route needs the admin role: a plain user is refused (403) before any id is looked at. */
  adminOnly?: boolean;
}

const ROUTES: Route[] = [
  { name: 'message status', method: 'get', path: (o) => `/api/sms/messages/${o.messageId}/status` },
  { name: 'message cancel', method: 'delete', path: (o) => `/api/sms/messages/${o.messageId}` },
  { name: 'template get', method: 'get', path: (o) => `/api/sms/templates/${o.templateId}` },
  {
    name: 'template put',
    method: 'put',
    path: (o) => `/api/sms/templates/${o.templateId}`,
    body: () => ({
      name: 'hijacked',
      content_en: 'pwned {{name}}',
      message_type: 'general_notification',
      variables: ['name'],
    }),
    adminOnly: true,
  },
  {
    name: 'template patch',
    method: 'patch',
    path: (o) => `/api/sms/templates/${o.templateId}`,
    body: () => ({ name: 'hijacked' }),
    adminOnly: true,
  },
  {
    name: 'template delete',
    method: 'delete',
    path: (o) => `/api/sms/templates/${o.templateId}`,
    adminOnly: true,
  },
  {
    name: 'template preview',
    method: 'post',
    path: (o) => `/api/sms/templates/${o.templateId}/preview`,
    body: () => ({ variables: { name: 'x' } }),
  },
  {
    name: 'send-templated with the template',
    method: 'post',
    path: () => '/api/sms/send-templated',
    body: (o) => ({ phone_number: '+12025550142', template_id: o.templateId, variables: { name: 'x' } }),
  },
  { name: 'appointment get', method: 'get', path: (o) => `/api/sms/appointments/${o.appointmentId}` },
  { name: 'appointment delete', method: 'delete', path: (o) => `/api/sms/appointments/${o.appointmentId}` },
  {
    name: 'opt-out delete',
    method: 'delete',
    path: (o) => `/api/sms/opt-outs/${encodeURIComponent(o.optOut)}`,
    adminOnly: true,
  },
  { name: 'audit entry', method: 'get', path: (o) => `/api/sms/audit/${o.auditId}`, adminOnly: true },
  {
    name: 'senders get',
    method: 'get',
    path: (o) => `/api/sms/tenants/${o.tenantId}/senders`,
    adminOnly: true,
  },
  {
    name: 'senders put',
    method: 'put',
    path: (o) => `/api/sms/tenants/${o.tenantId}/senders`,
    body: () => ({ senders: { TR: { alphanumeric: 'HIJACK' } } }),
    adminOnly: true,
  },
  {
    name: 'provider accounts list',
    method: 'get',
    path: (o) => `/api/sms/tenants/${o.tenantId}/provider-accounts`,
    adminOnly: true,
  },
  {
    name: 'provider account delete',
    method: 'delete',
    path: (o) => `/api/sms/tenants/${o.tenantId}/provider-accounts/twilio`,
    adminOnly: true,
  },
  {
    name: 'privacy export',
    method: 'get',
    path: (o) => `/api/sms/privacy/exports/${o.exportId}`,
    adminOnly: true,
  },
  {
    name: 'privacy export download',
    method: 'get',
    path: (o) => `/api/sms/privacy/exports/${o.exportId}/download`,
    adminOnly: true,
  },
];

describe('tenant matrix: another tenant’s id answers 404 and changes nothing', () => {
  let t: TestApp;
  let ds: DataSource;
  const a = freshTenantId();
  const b = freshTenantId();
  const ownerA: TokenOptions = { tenant: a, user: 'owner', roles: ['admin'] };
  const attackers: { who: string; token: TokenOptions; admin: boolean }[] = [
    { who: "tenant B's admin", token: { tenant: b, user: 'owner', roles: ['admin'] }, admin: true },
    { who: "tenant B's user", token: { tenant: b, user: 'owner' }, admin: false },
  ];
  const owned = {} as Owned;
  const appointment = {
    phone_number: '+905321234567',
    starts_at: '2026-12-15T11:00:00Z',
    trainer_name: 'John Doe',
    location: 'Room A',
  };

  /** Everything of tenant A the routes could touch, as A reads it. */
  async function snapshotOfA(): Promise<unknown> {
    const as = (path: string) => t.http().get(path).set(t.auth(ownerA)).expect(200);
    const status = (await as(`/api/sms/messages/${owned.messageId}/status`)).body;
    return {
      message: { status: status.status, events: status.events.length },
      template: (await as(`/api/sms/templates/${owned.templateId}`)).body,
      appointment: (await as(`/api/sms/appointments/${owned.appointmentId}`)).body,
      optOuts: (await as('/api/sms/opt-outs')).body,
      audit: (await as('/api/sms/audit?limit=200')).body.items.map((e: { id: string }) => e.id),
      auditEntry: (await as(`/api/sms/audit/${owned.auditId}`)).body,
      senders: (await as(`/api/sms/tenants/${a}/senders`)).body,
      messagesOfB: await ds.query('SELECT count(*)::int AS n FROM sms_messages WHERE tenant_id = $1', [b]),
    };
  }

  let before: unknown;
  beforeAll(async () => {
    t = await createTestApp();
    ds = t.get(DataSource);
    const http = () => t.http();
    const scheduled = await http()
      .post('/api/sms/schedule')
      .set(t.auth(ownerA))
      .send({
        phone_number: '+12025550123',
        message: 'see you tomorrow',
        scheduled_time: new Date(Date.now() + 86_400_000).toISOString(),
      })
      .expect(202);
    owned.messageId = scheduled.body.message_id;
    owned.templateId = 'matrix_template';
    await http()
      .post('/api/sms/templates')
      .set(t.auth(ownerA))
      .send({
        template_id: owned.templateId,
        name: 'Matrix',
        content_en: 'Hello {{name}}',
        message_type: 'general_notification',
        variables: ['name'],
      })
      .expect(201);
    owned.appointmentId = 'matrix-apt';
    await http()
      .put(`/api/sms/appointments/${owned.appointmentId}`)
      .set(t.auth(ownerA))
      .send(appointment)
      .expect(201);
    owned.optOut = '+12025550999';
    await http()
      .post('/api/sms/opt-outs')
      .set(t.auth(ownerA))
      .send({ phone_number: owned.optOut })
      .expect(204);
    owned.tenantId = a;
    owned.exportId = (
      await http()
        .post('/api/sms/privacy/exports')
        .set(t.auth(ownerA))
        .send({ phone_number: '+12025550123' })
        .expect(202)
    ).body.id;
    const entries = (await http().get('/api/sms/audit').set(t.auth(ownerA)).expect(200)).body.items;
    owned.auditId = entries[entries.length - 1].id;
    before = await snapshotOfA();
  });
  afterAll(() => t.close());

  for (const attacker of attackers) {
    for (const route of ROUTES.filter((r) => attacker.admin || !r.adminOnly)) {
      it(`${route.method.toUpperCase()} ${route.name}: ${attacker.who} gets 404`, async () => {
        let req = t.http()[route.method](route.path(owned)).set(t.auth(attacker.token));
        if (route.body) req = req.send(route.body(owned));
        const res = await req;
        expect({ status: res.status, body: res.body }).toMatchObject({
          status: 404,
          body: { statusCode: 404 },
        });
      });
    }
    if (attacker.admin) continue;
    it(`role-gated routes refuse ${attacker.who} (403) before looking at the id`, async () => {
      for (const route of ROUTES.filter((r) => r.adminOnly)) {
        let req = t.http()[route.method](route.path(owned)).set(t.auth(attacker.token));
        if (route.body) req = req.send(route.body(owned));
        expect([route.name, (await req).status]).toEqual([route.name, 403]);
      }
    });
  }

  it('PUT of an appointment id tenant A uses creates tenant B’s own appointment and leaves A’s alone', async () => {
    // Appointment ids are per tenant: answering 404 here would itself tell B that A has the id.
    await t
      .http()
      .put(`/api/sms/appointments/${owned.appointmentId}`)
      .set(t.auth({ tenant: b, user: 'owner' }))
      .send({ ...appointment, phone_number: '+12025550666', location: 'elsewhere' })
      .expect(201);
  });

  it('filters naming tenant A’s ids answer tenant B an empty list', async () => {
    const bAdmin = t.auth(attackers[0].token);
    const audit = await t
      .http()
      .get('/api/sms/audit')
      .query({ target_id: owned.templateId })
      .set(bAdmin)
      .expect(200);
    expect(audit.body.items).toEqual([]);
    const history = await t
      .http()
      .get('/api/sms/history')
      .query({ phone_number: '+12025550123' })
      .set(bAdmin)
      .expect(200);
    expect(history.body.items).toEqual([]);
  });

  it('a verification code of tenant A is not valid for tenant B and B’s tries do not spend A’s attempts', async () => {
    const phone = '+12025550188';
    await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(ownerA))
      .send({ phone_number: phone, purpose: '2fa', code: '864200' })
      .expect(202);
    for (let i = 0; i < 6; i++) {
      const res = await t
        .http()
        .post('/api/sms/verification/check')
        .set(t.auth(attackers[0].token))
        .send({ phone_number: phone, purpose: '2fa', code: i === 0 ? '864200' : '000000' })
        .expect(200);
      expect(res.body).toEqual({ valid: false });
    }
    const ok = await t
      .http()
      .post('/api/sms/verification/check')
      .set(t.auth(ownerA))
      .send({ phone_number: phone, purpose: '2fa', code: '864200' })
      .expect(200);
    expect(ok.body).toEqual({ valid: true });
  });

  // Declared last: jest runs tests in order, so every attack above has happened.
  it('left everything of tenant A as it was', async () => {
    expect(await snapshotOfA()).toEqual(before);
    const byB = await ds.query(
      'SELECT action FROM sms_audit_log WHERE tenant_id = $1 AND actor_tenant_id = $2',
      [a, b],
    );
    expect(byB).toEqual([]);
  });
});
