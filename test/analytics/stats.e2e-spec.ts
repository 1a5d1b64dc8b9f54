import { DataSource } from 'typeorm';
import { RollupService, bucketUpperMs, latencyBucket } from '../../src/analytics';
import { RetentionJob } from '../../src/jobs/retention.job';
import { ReceiptsService } from '../../src/messaging';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { waitForStatus } from '../support/messages';
import { allowCountries } from '../support/tenants';

interface Seed {
  tenant: number;
  n: number;
  createdBy?: string;
  type?: string;
  estimate?: string;
  currency?: string;
  daysAgo?: number;
  campaign?: string | null;
}

/**
 * Messages written as the service writes them: an INSERT (accepted), then UPDATEs moving them on.
 * Returns the ids. Figures are then read back through the HTTP routes only.
 */
async function seed(ds: DataSource, s: Seed): Promise<string[]> {
  const rows: { id: string }[] = await ds.query(
    `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, language, status,
                               segments, encoding, estimated_cost, currency, campaign_id, created_at, updated_at)
     SELECT gen_random_uuid(), $1, $2, '+12025550123', 'seeded', $3, 'en', 'queued', 2, 'GSM-7', $4::numeric, $5,
            $7::uuid, now() - make_interval(days => $6), now() - make_interval(days => $6)
       FROM generate_series(1, $8)
     RETURNING id`,
    [
      s.tenant,
      s.createdBy ?? 'seeder',
      s.type ?? 'general_notification',
      s.estimate ?? '0.0079',
      s.currency ?? 'USD',
      s.daysAgo ?? 0,
      s.campaign ?? null,
      s.n,
    ],
  );
  return rows.map((r) => r.id);
}

/** Hands messages to a provider (status sent, a provider id), as the delivery worker does. */
async function markSent(ds: DataSource, ids: string[], provider = 'twilio'): Promise<void> {
  await ds.query(
    `UPDATE sms_messages SET status = 'sent', provider = $2, provider_message_id = 'SM' || replace(id::text, '-', ''),
            sent_at = created_at + interval '1 second', attempts = 1
      WHERE id = ANY($1::uuid[])`,
    [ids, provider],
  );
}

async function markFinal(
  ds: DataSource,
  ids: string[],
  status: string,
  cost: string | null,
  latencyMs = 1500,
) {
  await ds.query(
    `UPDATE sms_messages SET status = $2::varchar, cost = $3::numeric,
            delivered_at = CASE WHEN $2::varchar = 'delivered' THEN sent_at + make_interval(secs => $4::double precision / 1000) END
      WHERE id = ANY($1::uuid[])`,
    [ids, status, cost, latencyMs],
  );
}

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

  it('sums thousands of fractional prices exactly, moves a message between buckets, and parses back as CSV', async () => {
    const tenant = freshTenantId();
    const admin = { tenant, user: 'boss', roles: ['admin'] };
    await allowCountries(t, tenant, ['US']);
    const ids = await seed(ds, { tenant, n: 3000, estimate: '0.0079' });
    await markSent(ds, ids);
    await markFinal(ds, ids.slice(0, 2000), 'delivered', '0.0075', 1500);
    await markFinal(ds, ids.slice(2000, 2100), 'failed', null);

    const expected = {
      total: 3000,
      sent: 900,
      delivered: 2000,
      failed: 100,
      segments: 6000,
      estimated_cost: '23.7',
      actual_cost: '15',
      currency: 'USD',
      delivery_rate: 0.9524,
      failure_rate: 0.0476,
      delivery_latency_ms: {
        p50: bucketUpperMs(latencyBucket(1500)),
        p95: bucketUpperMs(latencyBucket(1500)),
      },
    };
    // Before the fold (pending deltas), after it, and after a second (empty) fold: the same.
    const before = await stats(admin).expect(200);
    expect(before.body.totals).toMatchObject(expected);
    await t.get(RollupService).fold();
    await t.get(RollupService).fold();
    const after = await stats(admin, '?group_by=day').expect(200);
    expect(after.body.totals).toMatchObject(expected);
    expect(after.body.groups).toEqual([expect.objectContaining({ key: today(), ...expected })]);

    // A status that moves backwards (an operator's correction) moves the message's figures with it
    // (its reported cost stays).
    await ds.query(`UPDATE sms_messages SET status = 'sent', delivered_at = NULL WHERE id = $1`, [ids[0]]);
    const moved = await stats(admin, '?group_by=status').expect(200);
    expect(moved.body.totals).toMatchObject({
      total: 3000,
      sent: 901,
      delivered: 1999,
      estimated_cost: '23.7',
    });
    expect(moved.body.groups.map((g: { key: string; total: number }) => [g.key, g.total])).toEqual([
      ['delivered', 1999],
      ['failed', 100],
      ['sent', 901],
    ]);
    // An update that changes nothing the rollup counts (a retried write) changes nothing.
    await ds.query(
      `UPDATE sms_messages SET updated_at = now(), attempts = attempts WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    await t.get(RollupService).fold();
    expect((await stats(admin).expect(200)).body.totals).toMatchObject({ sent: 901, delivered: 1999 });

    const report = await t
      .http()
      .get(`/api/sms/reports/costs?month=${month()}`)
      .set(t.auth(admin))
      .expect(200);
    const twilio = {
      key: 'twilio',
      currency: 'USD',
      messages: 3000,
      segments: 6000,
      estimated_cost: '23.7',
      actual_cost: '15',
      actual_messages: 2000,
      estimated_cost_reported: '15.8',
      difference: '-0.8',
    };
    expect(report.body.by_provider).toEqual([twilio]);
    expect(report.body.by_message_type).toEqual([{ ...twilio, key: 'general_notification' }]);
    expect(report.body.totals).toEqual([{ ...twilio, key: null }]);
    expect(report.body.by_tenant).toBeUndefined();

    const csv = await t
      .http()
      .get(`/api/sms/reports/costs?month=${month()}&format=csv`)
      .set(t.auth(admin))
      .expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe(
      `attachment; filename="sms-costs-${month()}-tenant-${tenant}.csv"`,
    );
    const rows = parseCsv(csv.text);
    expect(rows.map((r) => r.section)).toEqual(['provider', 'message_type', 'total']);
    expect(rows[0]).toEqual({
      section: 'provider',
      key: 'twilio',
      currency: 'USD',
      messages: '3000',
      segments: '6000',
      estimated_cost: '23.7',
      actual_cost: '15',
      actual_messages: '2000',
      estimated_cost_reported: '15.8',
      difference: '-0.8',
    });
  });

  it('never adds different currencies', async () => {
    const tenant = freshTenantId();
    const admin = { tenant, roles: ['admin'] };
    await allowCountries(t, tenant, ['US']);
    await markSent(ds, await seed(ds, { tenant, n: 3, estimate: '0.01', currency: 'USD' }));
    await markSent(ds, await seed(ds, { tenant, n: 2, estimate: '0.05', currency: 'EUR' }));
    const res = await stats(admin).expect(200);
    expect(res.body.totals).toMatchObject({
      total: 5,
      estimated_cost: null,
      actual_cost: null,
      currency: null,
    });
    expect(res.body.totals.costs_by_currency).toEqual([
      { currency: 'EUR', estimated_cost: '0.1', actual_cost: '0' },
      { currency: 'USD', estimated_cost: '0.03', actual_cost: '0' },
    ]);
    const report = await t
      .http()
      .get(`/api/sms/reports/costs?month=${month()}`)
      .set(t.auth(admin))
      .expect(200);
    expect(
      report.body.totals.map((r: { currency: string; estimated_cost: string }) => [
        r.currency,
        r.estimated_cost,
      ]),
    ).toEqual([
      ['EUR', '0.1'],
      ['USD', '0.03'],
    ]);
  });

  it('keeps tenants apart; a super_admin sees across tenants', async () => {
    const a = freshTenantId();
    const b = freshTenantId();
    await allowCountries(t, a, ['US']);
    await allowCountries(t, b, ['US']);
    await markSent(ds, await seed(ds, { tenant: a, n: 7 }));
    await markSent(ds, await seed(ds, { tenant: b, n: 4, estimate: '0.01' }));
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
    await seed(ds, { tenant, n: 5, createdBy: 'alice' });
    await seed(ds, { tenant, n: 7, createdBy: 'bob' });
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
    const ids = await seed(ds, { tenant, n: 10, daysAgo: 200, estimate: '0.0083' });
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

  it('answers admins from the coarse rollup, equal to the per-creator one summed, through retries, late costs and backwards moves', async () => {
    const tenant = freshTenantId();
    const admin = { tenant, roles: ['admin'] };
    await allowCountries(t, tenant, ['US']);
    const alice = await seed(ds, { tenant, n: 40, createdBy: 'alice', estimate: '0.0081' });
    const bob = await seed(ds, { tenant, n: 25, createdBy: 'bob', daysAgo: 3, type: 'password_reset' });
    await markSent(ds, [...alice, ...bob]);
    await markFinal(ds, alice.slice(0, 30), 'delivered', '0.0077', 900);
    await markFinal(ds, bob.slice(0, 5), 'failed', null);
    // One statement that moves some rows and leaves the others as they were.
    await ds.query(
      `UPDATE sms_messages SET status = CASE WHEN id = ANY($2::uuid[]) THEN 'undelivered' ELSE status END,
              updated_at = now()
        WHERE id = ANY($1::uuid[])`,
      [bob, bob.slice(5, 8)],
    );
    // A retried receipt (same values again), a late cost, a status that moves backwards.
    await markFinal(ds, alice.slice(0, 30), 'delivered', '0.0077', 900);
    await ds.query(`UPDATE sms_messages SET cost = 0.0069 WHERE id = $1`, [bob[9]]);
    await ds.query(`UPDATE sms_messages SET status = 'sent', delivered_at = NULL WHERE id = $1`, [alice[0]]);

    const start = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
    const period = `?start_date=${start}&end_date=${today()}`;
    const expectedTotals = {
      total: 65,
      delivered: 29,
      sent: 10 + 1 + 17,
      failed: 5,
      undelivered: 3,
      estimated_cost: '0.5215', // 40 × 0.0081 + 25 × 0.0079
    };
    const check = async () => {
      const all = (await stats(admin, period).expect(200)).body.totals;
      expect(all).toMatchObject(expectedTotals);
      const a = (await stats({ tenant, user: 'alice' }, period).expect(200)).body.totals;
      const b = (await stats({ tenant, user: 'bob' }, period).expect(200)).body.totals;
      for (const k of ['total', 'sent', 'delivered', 'failed', 'undelivered', 'segments'] as const)
        expect(a[k] + b[k]).toBe(all[k]);
      for (const groupBy of ['day', 'status', 'message_type', 'provider', 'language']) {
        const groups = (await stats(admin, `${period}&group_by=${groupBy}`).expect(200)).body.groups;
        expect(groups.reduce((n: number, g: { total: number }) => n + g.total, 0)).toBe(65);
      }
      return all;
    };
    const before = await check();
    await t.get(RollupService).fold();
    expect(await check()).toEqual(before);
    // Folded, the two tables agree row for row.
    const [diff] = await ds.query(
      `WITH fine AS (
         SELECT day, provider, message_type, status, language, campaign_id, currency, latency_bucket,
                sum(messages) AS m, sum(segments) AS s, sum(estimated_cost) AS e, sum(actual_cost) AS a,
                sum(actual_messages) AS am, sum(actual_estimated) AS ae
           FROM sms_daily_rollup WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
       ), coarse AS (
         SELECT day, provider, message_type, status, language, campaign_id, currency, latency_bucket,
                messages AS m, segments AS s, estimated_cost AS e, actual_cost AS a,
                actual_messages AS am, actual_estimated AS ae
           FROM sms_tenant_daily_rollup WHERE tenant_id = $1
       ), d AS ((TABLE fine EXCEPT TABLE coarse) UNION ALL (TABLE coarse EXCEPT TABLE fine))
       -- a key whose messages all moved away may stay as a row of zeros in either table
       SELECT count(*)::int AS n FROM d WHERE m <> 0 OR s <> 0 OR e <> 0 OR a <> 0 OR am <> 0 OR ae <> 0`,
      [tenant],
    );
    expect(diff.n).toBe(0);
    const [{ pending }] = await ds.query(
      'SELECT count(*)::int AS pending FROM sms_rollup_deltas WHERE tenant_id = $1',
      [tenant],
    );
    expect(pending).toBe(0);
    // A statement that changes no counted column writes no delta.
    await ds.query(`UPDATE sms_messages SET updated_at = now(), error_message = 'x' WHERE tenant_id = $1`, [
      tenant,
    ]);
    const [{ after }] = await ds.query(
      'SELECT count(*)::int AS after FROM sms_rollup_deltas WHERE tenant_id = $1',
      [tenant],
    );
    expect(after).toBe(0);
    expect(await check()).toEqual(before);
  });

  it("filters by a tenant's own message type (any valid slug), and refuses a malformed one", async () => {
    const tenant = freshTenantId();
    const admin = { tenant, roles: ['admin'] };
    await allowCountries(t, tenant, ['US']);
    await seed(ds, { tenant, n: 4, type: 'welcome_message' });
    await seed(ds, { tenant, n: 6, type: 'general_notification' });
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
