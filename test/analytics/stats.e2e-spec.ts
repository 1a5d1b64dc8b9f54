import { DataSource } from 'typeorm';
import { RollupService } from '../../src/analytics';
import { RetentionJob } from '../../src/jobs/retention.job';
import { ReceiptsService } from '../../src/messaging';
import { markFinal, markSent, newMessages } from '../medium/factories';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { waitForStatus } from '../support/messages';
import { allowCountries } from '../support/tenants';

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\r\n');
  const cols = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

describe('stats and cost reports', () => {
  let t: TestApp;
  let ds: DataSource;
  const today = () => new Date().toISOString().slice(0, 10);
  const stats = (who: TokenOptions, query = '') => t.http().get(`/api/sms/stats${query}`).set(t.auth(who));
  const month = () => today().slice(0, 7);

  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  it('downloads the monthly cost report as CSV, named after the month and the tenant', async () => {
    // The figures themselves (exact sums, buckets, the CSV's rows): test/medium/analytics.
    const tenant = freshTenantId();
    const admin = { tenant, user: 'boss', roles: ['admin'] };
    await markSent(ds, await newMessages(ds, { tenant, n: 3 }));
    const csv = await t
      .http()
      .get(`/api/sms/reports/costs?month=${month()}&format=csv`)
      .set(t.auth(admin))
      .expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe(
      `attachment; filename="sms-costs-${month()}-tenant-${tenant}.csv"`,
    );
    expect(parseCsv(csv.text).map((r) => r.section)).toEqual([
      'provider',
      'message_type',
      'channel',
      'total',
    ]);
  });

  it('keeps tenants apart; a super_admin sees across tenants', async () => {
    const a = freshTenantId();
    const b = freshTenantId();
    await allowCountries(t, a, ['US']);
    await allowCountries(t, b, ['US']);
    await markSent(ds, await newMessages(ds, { tenant: a, n: 7 }));
    await markSent(ds, await newMessages(ds, { tenant: b, n: 4, estimate: '0.01' }));
    const adminB = { tenant: b, roles: ['admin'] };
    expect((await stats(adminB).expect(200)).body.totals).toMatchObject({ total: 4, estimated_cost: '0.04' });
    const reportB = await t
      .http()
      .get(`/api/sms/reports/costs?month=${month()}`)
      .set(t.auth(adminB))
      .expect(200);
    expect(reportB.body.totals).toEqual([expect.objectContaining({ messages: 4, estimated_cost: '0.04' })]);

    // A tenant cannot widen its scope.
    await stats(adminB, '?group_by=tenant').expect(403);
    await stats(adminB, `?tenant_id=${a}`).expect(403);
    await t
      .http()
      .get(`/api/sms/reports/costs?month=${month()}&tenant_id=${a}`)
      .set(t.auth(adminB))
      .expect(403);

    const operator = { tenant: 1, roles: ['super_admin'] };
    const all = await stats(operator, '?group_by=tenant').expect(200);
    const mine = all.body.groups.filter((g: { key: string }) => [String(a), String(b)].includes(g.key));
    expect(mine.map((g: { key: string; total: number }) => [g.key, g.total]).sort()).toEqual(
      [
        [String(a), 7],
        [String(b), 4],
      ].sort(),
    );
    const one = await stats(operator, `?tenant_id=${a}`).expect(200);
    expect(one.body.totals.total).toBe(7);
    const viaHeader = await stats(operator).set('X-Tenant-Id', String(b)).expect(200);
    expect(viaHeader.body.totals.total).toBe(4);
    const report = await t
      .http()
      .get(`/api/sms/reports/costs?month=${month()}`)
      .set(t.auth(operator))
      .expect(200);
    expect(report.body.tenant_id).toBeNull();
    const tenantRows = report.body.by_tenant.filter((r: { key: string }) =>
      [String(a), String(b)].includes(r.key),
    );
    expect(tenantRows).toHaveLength(2);
    const csv = await t
      .http()
      .get(`/api/sms/reports/costs?month=${month()}&format=csv`)
      .set(t.auth(operator))
      .expect(200);
    expect(parseCsv(csv.text).filter((r) => r.section === 'tenant' && r.key === String(b))).toEqual([
      expect.objectContaining({ messages: '4', estimated_cost: '0.04' }),
    ]);
  });

  it('shows a plain user only the messages they created; cost reports are for admins', async () => {
    const tenant = freshTenantId();
    await allowCountries(t, tenant, ['US']);
    await newMessages(ds, { tenant, n: 5, createdBy: 'alice' });
    await newMessages(ds, { tenant, n: 7, createdBy: 'bob' });
    expect((await stats({ tenant, user: 'alice' }).expect(200)).body.totals.total).toBe(5);
    expect((await stats({ tenant, user: 'bob' }, '?group_by=day').expect(200)).body.groups).toEqual([
      expect.objectContaining({ key: today(), total: 7 }),
    ]);
    expect((await stats({ tenant, user: 'carol' }).expect(200)).body.totals).toMatchObject({
      total: 0,
      delivery_rate: null,
      delivery_latency_ms: { p50: null, p95: null },
    });
    expect((await stats({ tenant, roles: ['admin'] }).expect(200)).body.totals.total).toBe(12);
    await t
      .http()
      .get(`/api/sms/reports/costs?month=${month()}`)
      .set(t.auth({ tenant, user: 'alice' }))
      .expect(403);
  });

  it('keeps the figures of messages deleted by retention, and a late receipt after retention changes nothing', async () => {
    const tenant = freshTenantId();
    const admin = { tenant, roles: ['admin'] };
    await allowCountries(t, tenant, ['US']);
    const ids = await newMessages(ds, {
      tenant,
      n: 10,
      createdAt: new Date(Date.now() - 200 * 86_400_000),
      estimate: '0.0083',
    });
    await markSent(ds, ids);
    await markFinal(ds, ids.slice(0, 6), 'delivered', '0.0079');
    const day = new Date(Date.now() - 200 * 86_400_000).toISOString().slice(0, 10);
    const query = `?start_date=${day}&end_date=${day}`;
    const before = (await stats(admin, query).expect(200)).body.totals;
    expect(before).toMatchObject({
      total: 10,
      delivered: 6,
      sent: 4,
      estimated_cost: '0.083',
      actual_cost: '0.0474',
    });

    await t.get(RetentionJob).run();
    const [{ left }] = await ds.query('SELECT count(*)::int AS left FROM sms_messages WHERE tenant_id = $1', [
      tenant,
    ]);
    expect(left).toBe(0);
    expect((await stats(admin, query).expect(200)).body.totals).toEqual(before);
    await t.get(RollupService).fold();
    expect((await stats(admin, query).expect(200)).body.totals).toEqual(before);

    // The provider's receipt for a deleted message arrives late: nothing to move.
    const receipts = t.get(ReceiptsService);
    await receipts.apply({
      provider: 'twilio',
      providerMessageId: `SM${ids[7].replace(/-/g, '')}`,
      status: 'delivered',
      providerStatus: 'delivered',
      price: 7900,
      currency: 'USD',
      source: 'test',
    });
    await t.get(RollupService).fold();
    expect((await stats(admin, query).expect(200)).body.totals).toEqual(before);
    const monthOf = day.slice(0, 7);
    const report = await t
      .http()
      .get(`/api/sms/reports/costs?month=${monthOf}`)
      .set(t.auth(admin))
      .expect(200);
    expect(report.body.totals).toEqual([
      expect.objectContaining({
        messages: 10,
        estimated_cost: '0.083',
        actual_cost: '0.0474',
        actual_messages: 6,
      }),
    ]);
  });

  it("filters by a tenant's own message type (any valid slug), and refuses a malformed one", async () => {
    const tenant = freshTenantId();
    const admin = { tenant, roles: ['admin'] };
    await allowCountries(t, tenant, ['US']);
    await newMessages(ds, { tenant, n: 4, type: 'welcome_message' });
    await newMessages(ds, { tenant, n: 6, type: 'general_notification' });
    const custom = await stats(admin, '?message_type=welcome_message&group_by=message_type').expect(200);
    expect(custom.body.totals.total).toBe(4);
    expect(custom.body.groups).toEqual([expect.objectContaining({ key: 'welcome_message', total: 4 })]);
    expect((await stats(admin, '?message_type=general_notification').expect(200)).body.totals.total).toBe(6);
    expect((await stats(admin, '?message_type=not_used_yet').expect(200)).body.totals.total).toBe(0);
    for (const bad of ['Welcome', '9lives', 'a', 'welcome-message', 'x'.repeat(50)]) {
      const res = await stats(admin, `?message_type=${bad}`).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain('message_type');
    }
  });

  it('counts messages sent through the API as they move, with their delivery latency', async () => {
    const tenant = freshTenantId();
    const user = { tenant, user: 'sender' };
    await allowCountries(t, tenant, ['US']);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t
        .http()
        .post('/api/sms/send')
        .set(t.auth(user))
        .send({ phone_number: '+12025550123', message: `hello ${i}` })
        .expect(202);
      ids.push(res.body.message_id);
    }
    for (const id of ids) await waitForStatus(t, user, id, 'delivered');
    const res = await stats(user, '?group_by=provider').expect(200);
    expect(res.body.totals).toMatchObject({ total: 3, delivered: 3, delivery_rate: 1, failure_rate: 0 });
    expect(res.body.totals.delivery_latency_ms.p50).toEqual(expect.any(Number));
    expect(res.body.groups).toEqual([expect.objectContaining({ key: 'sandbox', delivered: 3 })]);
  });

  it('refuses bad periods and parameters with a 400 naming the field', async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    const cases: [string, string][] = [
      ['?start_date=2026-02-30', 'start_date'],
      ['?end_date=20260101', 'end_date'],
      ['?start_date=2026-03-02&end_date=2026-03-01', 'start_date'],
      ['?start_date=2025-01-01&end_date=2026-02-05', 'end_date'],
      ['?group_by=hour', 'group_by'],
      ['?campaign_id=nope', 'campaign_id'],
    ];
    for (const [q, field] of cases) {
      const res = await stats(admin, q).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const ok = await stats(admin, '?start_date=2025-01-01&end_date=2026-02-04').expect(200);
    expect(ok.body.period).toEqual({ start_date: '2025-01-01', end_date: '2026-02-04' });
    const dflt = await stats(admin).expect(200);
    expect(dflt.body.period.end_date).toBe(today());
    expect(
      (Date.parse(dflt.body.period.end_date) - Date.parse(dflt.body.period.start_date)) / 86_400_000,
    ).toBe(29);
    for (const m of ['2026-13', '2026-1', 'x']) {
      const res = await t.http().get(`/api/sms/reports/costs?month=${m}`).set(t.auth(admin)).expect(400);
      expect(res.body.details[0].field).toBe('month');
    }
    await t.http().get('/api/sms/reports/costs').set(t.auth(admin)).expect(400);
  });

  it('describes both routes in Swagger, rates over final-state messages', async () => {
    const res = await t.http().get('/api/docs-json').expect(200);
    const stats = res.body.paths['/api/sms/stats'].get;
    expect(stats.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining([
        'start_date',
        'end_date',
        'group_by',
        'message_type',
        'provider',
        'campaign_id',
      ]),
    );
    expect(stats.description).toMatch(/final outcome/);
    expect(JSON.stringify(res.body.components.schemas.StatsFiguresDto)).toMatch(/final outcome/);
    const costs = res.body.paths['/api/sms/reports/costs'].get;
    expect(Object.keys(costs.responses['200'].content)).toEqual(
      expect.arrayContaining(['application/json', 'text/csv']),
    );
  });
});
