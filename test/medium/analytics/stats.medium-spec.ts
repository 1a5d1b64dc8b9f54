import {
  AnalyticsModule,
  AnalyticsService,
  bucketUpperMs,
  latencyBucket,
  RollupService,
} from '../../../src/analytics';
import type { GroupBy } from '../../../src/analytics/analytics.dto';
import { costReportCsv } from '../../../src/analytics/csv';
import { Principal } from '../../../src/auth/principal';
import { markFinal, markSent, newMessages, newTenant } from '../factories';
import { createMediumContext, MediumContext, principal } from '../medium-context';

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\r\n');
  const cols = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

/**
 * The stats and cost-report figures, read back through AnalyticsService as the routes call it,
 * from messages written as the service writes them (factories: INSERT, then UPDATEs). Who may ask
 * for what, and the routes' validation, are tested in test/analytics.
 */
describe('AnalyticsService: stats and cost reports', () => {
  let ctx: MediumContext;
  let analytics: AnalyticsService;
  const today = () => new Date().toISOString().slice(0, 10);
  const month = () => today().slice(0, 7);
  /** As GET /api/sms/stats does it. */
  const stats = (who: Principal, q: { start_date?: string; end_date?: string; group_by?: GroupBy } = {}) => {
    const groupBy = q.group_by ?? null;
    const { start, end } = analytics.period(q.start_date, q.end_date);
    return analytics.stats(analytics.scopeOf(who, undefined, groupBy), { start, end, groupBy });
  };
  /** As GET /api/sms/reports/costs does it. */
  const costs = (who: Principal, m = month()) => analytics.costReport(analytics.scopeOf(who, undefined), m);
  const fold = () => ctx.get(RollupService).fold();

  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [AnalyticsModule] });
    analytics = ctx.get(AnalyticsService);
  });
  afterAll(() => ctx.close());

  it('buckets delivery latency in SQL as latency.ts does, on both sides of every bucket edge', async () => {
    // Each edge to the microsecond: 100·2^((b-1)/4) ms rounded up, the first latency of bucket b.
    const edges = Array.from({ length: 96 }, (_, b) => Math.ceil(100_000 * 2 ** (b / 4)));
    const us = edges.flatMap((e) => [e - 1, e]);
    const rows: { us: string; bucket: number }[] = await ctx.ds.query(
      `SELECT x.us::text AS us,
              sms_latency_bucket('delivered', t, t + x.us * interval '1 microsecond') AS bucket
         FROM unnest($1::bigint[]) AS x(us), (VALUES (timestamptz '2026-03-29 00:59:59.9+00')) v(t)`,
      [us],
    );
    expect(rows.map((r) => [Number(r.us), r.bucket])).toEqual(us.map((u) => [u, latencyBucket(u / 1000)]));
  });

  it('sums thousands of fractional prices exactly, moves a message between buckets, and parses back as CSV', async () => {
    const tenant = await newTenant(ctx.ds);
    const admin = principal(tenant, 'boss', ['admin']);
    const ids = await newMessages(ctx.ds, { tenant, n: 3000, estimate: '0.0079' });
    await markSent(ctx.ds, ids);
    await markFinal(ctx.ds, ids.slice(0, 2000), 'delivered', '0.0075', 1500);
    await markFinal(ctx.ds, ids.slice(2000, 2100), 'failed', null);

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
    expect((await stats(admin)).totals).toMatchObject(expected);
    await fold();
    await fold();
    const after = await stats(admin, { group_by: 'day' });
    expect(after.totals).toMatchObject(expected);
    expect(after.groups).toEqual([expect.objectContaining({ key: today(), ...expected })]);

    // A status that moves backwards (an operator's correction) moves the message's figures with it
    // (its reported cost stays).
    await ctx.ds.query(`UPDATE sms_messages SET status = 'sent', delivered_at = NULL WHERE id = $1`, [
      ids[0],
    ]);
    const moved = await stats(admin, { group_by: 'status' });
    expect(moved.totals).toMatchObject({ total: 3000, sent: 901, delivered: 1999, estimated_cost: '23.7' });
    expect(moved.groups?.map((g) => [g.key, g.total])).toEqual([
      ['delivered', 1999],
      ['failed', 100],
      ['sent', 901],
    ]);
    // An update that changes nothing the rollup counts (a retried write) changes nothing.
    await ctx.ds.query(
      `UPDATE sms_messages SET updated_at = now(), attempts = attempts WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    await fold();
    expect((await stats(admin)).totals).toMatchObject({ sent: 901, delivered: 1999 });

    const report = await costs(admin);
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
    expect(report.by_provider).toEqual([twilio]);
    expect(report.by_message_type).toEqual([{ ...twilio, key: 'general_notification' }]);
    expect(report.by_channel).toEqual([{ ...twilio, key: 'sms' }]);
    expect(report.totals).toEqual([{ ...twilio, key: null }]);
    expect(report.by_tenant).toBeUndefined();

    const rows = parseCsv(costReportCsv(report));
    expect(rows.map((r) => r.section)).toEqual(['provider', 'message_type', 'channel', 'total']);
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
    const tenant = await newTenant(ctx.ds);
    const admin = principal(tenant, 'u1', ['admin']);
    await markSent(ctx.ds, await newMessages(ctx.ds, { tenant, n: 3, estimate: '0.01', currency: 'USD' }));
    await markSent(ctx.ds, await newMessages(ctx.ds, { tenant, n: 2, estimate: '0.05', currency: 'EUR' }));
    const res = await stats(admin);
    expect(res.totals).toMatchObject({ total: 5, estimated_cost: null, actual_cost: null, currency: null });
    expect(res.totals.costs_by_currency).toEqual([
      { currency: 'EUR', estimated_cost: '0.1', actual_cost: '0' },
      { currency: 'USD', estimated_cost: '0.03', actual_cost: '0' },
    ]);
    const report = await costs(admin);
    expect(report.totals.map((r) => [r.currency, r.estimated_cost])).toEqual([
      ['EUR', '0.1'],
      ['USD', '0.03'],
    ]);
  });

  it('answers admins from the coarse rollup, equal to the per-creator one summed, through retries, late costs and backwards moves', async () => {
    const tenant = await newTenant(ctx.ds);
    const admin = principal(tenant, 'u1', ['admin']);
    const { ds } = ctx;
    const alice = await newMessages(ds, { tenant, n: 40, createdBy: 'alice', estimate: '0.0081' });
    const bob = await newMessages(ds, {
      tenant,
      n: 25,
      createdBy: 'bob',
      createdAt: new Date(Date.now() - 3 * 86_400_000),
      type: 'password_reset',
    });
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

    const period = { start_date: new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10) };
    const expectedTotals = {
      total: 65,
      delivered: 29,
      sent: 10 + 1 + 17,
      failed: 5,
      undelivered: 3,
      estimated_cost: '0.5215', // 40 × 0.0081 + 25 × 0.0079
    };
    const check = async () => {
      const all = (await stats(admin, period)).totals;
      expect(all).toMatchObject(expectedTotals);
      const a = (await stats(principal(tenant, 'alice'), period)).totals;
      const b = (await stats(principal(tenant, 'bob'), period)).totals;
      for (const k of ['total', 'sent', 'delivered', 'failed', 'undelivered', 'segments'] as const)
        expect(a[k] + b[k]).toBe(all[k]);
      for (const groupBy of ['day', 'status', 'message_type', 'provider', 'language'] as const) {
        const groups = (await stats(admin, { ...period, group_by: groupBy })).groups ?? [];
        expect(groups.reduce((n, g) => n + g.total, 0)).toBe(65);
      }
      return all;
    };
    const before = await check();
    await fold();
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
});
