import { CallbacksModule, CallbacksService } from '../../../src/callbacks';
import {
  ClaimedDelivery,
  DeliveriesRepository,
  HealthPolicy,
} from '../../../src/callbacks/deliveries.repository';
import { EndpointsService } from '../../../src/callbacks/endpoints.service';
import { newTenant } from '../factories';
import { createMediumContext, MediumContext, principal } from '../medium-context';

const POLICY: HealthPolicy = { backoffAfter: 2, pauseAfter: 4, backoffBaseMs: 1000 };
const LEASE_MS = 60_000;

/**
 * The claim's fairness rule and the health of targets, on DeliveriesRepository: what
 * WebhookDispatcher does each tick without the HTTP. The clock starts in 2001, so the only due
 * deliveries are this file's (other tests' rows are due in their own time).
 */
describe('callbacks: fair claim and target health', () => {
  let ctx: MediumContext;
  let repo: DeliveriesRepository;
  let events = 0;

  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [CallbacksModule],
      env: { WEBHOOK_ALLOW_INSECURE: 'true' },
    });
    ctx.clock.advance(Date.UTC(2001, 0, 1) - Date.now());
    repo = ctx.get(DeliveriesRepository);
  });
  afterAll(() => ctx.close());
  // Each test's leftovers would be due in the next one's time: they go.
  const tenants: number[] = [];
  afterEach(async () => {
    await ctx.ds.query('DELETE FROM sms_webhook_deliveries WHERE tenant_id = ANY($1::int[])', [tenants]);
    await ctx.ds.query('DELETE FROM sms_webhook_targets WHERE tenant_id = ANY($1::int[])', [tenants]);
  });
  const tenant = async () => {
    const id = await newTenant(ctx.ds);
    tenants.push(id);
    return id;
  };

  /** A tenant with one endpoint (everything subscribed); returns both ids. */
  async function endpoint(): Promise<{ tenant: number; id: string }> {
    const id = await tenant();
    const { endpoint: e } = await ctx
      .get(EndpointsService)
      .create(principal(id, 'ops', ['admin']), { url: `http://127.0.0.1:9/${id}` });
    return { tenant: id, id: e.id };
  }

  /** `n` events of the tenant, one delivery each to every endpoint of the tenant. */
  async function publish(tenant: number, n: number): Promise<void> {
    for (let i = 0; i < n; i++)
      await ctx
        .get(CallbacksService)
        .publish({ tenantId: tenant, type: 'message.inbound', key: `medium:${++events}`, data: {} });
  }

  /** A message's own status_callback_url delivery, as the ledger's trigger writes it. */
  async function messageUrlDelivery(tenant: number, url: string): Promise<void> {
    await ctx.ds.query(
      `INSERT INTO sms_webhook_deliveries
         (event_id, event_key, event_type, tenant_id, url, payload, next_attempt_at, expires_at, created_at)
       VALUES (gen_random_uuid(), 'message:' || gen_random_uuid() || ':sent', 'message.sent', $1, $2, '{}',
               $3, $3::timestamptz + interval '24 hours', $3)`,
      [tenant, url, ctx.clock.now()],
    );
  }

  const claim = async (limit: number, after: string | null = null, perTarget = 2) => {
    const now = ctx.clock.now();
    return repo.claimDue({ now, leaseUntil: new Date(now.getTime() + LEASE_MS), limit, perTarget, after });
  };

  const perTarget = (ds: ClaimedDelivery[]) => {
    const out: Record<string, number> = {};
    for (const d of ds) out[d.target] = (out[d.target] ?? 0) + 1;
    return out;
  };

  /** When the last `record` said its attempt ended. */
  let recordedAt = new Date(0);

  /** Records an attempt of `d` as the dispatcher does (pending again a second later unless delivered). */
  const record = (d: ClaimedDelivery, verdict: 'failure' | 'success', error = 'timeout after 5000 ms') =>
    repo.recordAttempt(
      d,
      {
        at: (recordedAt = ctx.clock.now()),
        statusCode: verdict === 'success' ? 200 : null,
        error: verdict === 'success' ? null : error,
        durationMs: 5,
        outcome: verdict === 'success' ? 'delivered' : 'pending',
        nextAttemptAt: verdict === 'success' ? null : new Date(ctx.clock.now().getTime() + 1000),
        verdict,
      },
      POLICY,
    );

  it('gives every target its oldest due delivery before any gets a second, at most perTarget in flight', async () => {
    const a = await endpoint();
    const b = await endpoint();
    await publish(a.tenant, 10);
    await publish(b.tenant, 1);
    // One tenant's per-message URLs: one target per host, whatever the path, case or user part.
    const c = await tenant();
    await messageUrlDelivery(c, 'https://hooks.c.example/a/1');
    await messageUrlDelivery(c, 'https://HOOKS.c.example/b?x=1');
    await messageUrlDelivery(c, 'https://user@hooks.c.example/c');
    await messageUrlDelivery(c, 'https://other.c.example/');
    const hooks = `url:${c}:hooks.c.example`;
    const other = `url:${c}:other.c.example`;

    // Four targets with due rows, four slots: one each, the oldest of each.
    const first = await claim(4);
    expect(perTarget(first.deliveries)).toEqual({ [a.id]: 1, [b.id]: 1, [hooks]: 1, [other]: 1 });
    const [oldestOfA] = await repo.list(a.tenant, { limit: 100 }).then((l) => l.slice(-1));
    expect(first.deliveries.find((d) => d.target === a.id)?.id).toBe(oldestOfA.id);
    // More slots: a second each for the targets that have more, up to two in flight.
    const second = await claim(6);
    expect(perTarget(second.deliveries)).toEqual({ [a.id]: 1, [hooks]: 1 });
    // Everything each target may have is in flight (hooks has a third row): nothing until an attempt ends.
    expect((await claim(6)).deliveries).toEqual([]);
    const ofA = first.deliveries.find((d) => d.target === a.id) as ClaimedDelivery;
    await record(ofA, 'success');
    expect(perTarget((await claim(6)).deliveries)).toEqual({ [a.id]: 1 });
  });

  it('takes the targets in turn when they outnumber the free slots', async () => {
    const targets = [await endpoint(), await endpoint(), await endpoint()];
    for (const t of targets) await publish(t.tenant, 5);
    const served: string[] = [];
    let after: string | null = null;
    const claimed: ClaimedDelivery[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await claim(1, after);
      expect(r.deliveries).toHaveLength(1);
      served.push(r.deliveries[0].target);
      claimed.push(...r.deliveries);
      after = r.lastTarget;
    }
    expect(new Set(served.slice(0, 3))).toEqual(new Set(targets.map((t) => t.id)));
    expect(served[3]).toBe(served[0]);
  });

  it('holds the cap across claims made at the same moment (one per replica)', async () => {
    const a = await endpoint();
    await publish(a.tenant, 60);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all([1, 2, 3, 4, 5, 6].map(() => claim(8)));
      const all = results.flatMap((r) => r.deliveries);
      expect([round, all.length]).toEqual([round, 2]);
      expect(new Set(all.map((d) => d.id)).size).toBe(2);
      for (const d of all) await record(d, 'success');
    }
  });

  it('backs a failing endpoint off, then pauses it; its deliveries wait; a resume lets them go', async () => {
    const a = await endpoint();
    await publish(a.tenant, 20);
    const endpoints = ctx.get(EndpointsService);
    const health = async () => (await endpoints.list(a.tenant))[0].health;
    const fail = async () => {
      const [d] = (await claim(1)).deliveries;
      expect(d.target).toBe(a.id);
      return record(d, 'failure');
    };

    await fail(); // 1 in a row: no backoff yet
    expect(await health()).toMatchObject({ consecutiveFailures: 1, backoffUntil: null, pausedAt: null });
    await fail(); // 2: backed off for the base, 1 s
    expect((await health()).backoffUntil).toEqual(new Date(recordedAt.getTime() + 1000));
    expect((await claim(8)).deliveries).toEqual([]);
    ctx.clock.advance(1000);
    await fail(); // 3: 2 s
    expect((await health()).backoffUntil).toEqual(new Date(recordedAt.getTime() + 2000));
    ctx.clock.advance(1900);
    expect((await claim(8)).deliveries).toEqual([]);
    ctx.clock.advance(100);
    const { pausedNow } = await fail(); // 4: paused
    expect(pausedNow).toEqual({
      failures: 4,
      reason: '4 failed attempts in a row; the last: timeout after 5000 ms',
    });
    expect(await health()).toMatchObject({ consecutiveFailures: 4, backoffUntil: null });
    // Paused: however long it waits, nothing is claimed, and nothing fails inside the window.
    ctx.clock.advance(3600_000);
    expect((await claim(8)).deliveries).toEqual([]);
    expect(await repo.expirePaused(ctx.clock.now())).toBe(0);
    expect((await repo.list(a.tenant, { status: 'pending', limit: 100 })).length).toBe(20);

    const resumed = await endpoints.resume(principal(a.tenant, 'ops', ['admin']), a.id);
    expect(resumed.health).toEqual({
      consecutiveFailures: 0,
      backoffUntil: null,
      pausedAt: null,
      pausedReason: null,
    });
    const { deliveries } = await claim(8);
    expect(perTarget(deliveries)).toEqual({ [a.id]: 2 });
  });

  it('backs a per-message URL host off but never pauses it; a success forgets its failures', async () => {
    const c = await tenant();
    for (let i = 0; i < 10; i++) await messageUrlDelivery(c, `https://down.c.example/${i}`);
    for (let i = 0; i < 6; i++) {
      const [d] = (await claim(1)).deliveries;
      expect(d.target).toBe(`url:${c}:down.c.example`);
      expect((await record(d, 'failure', 'ECONNREFUSED')).pausedNow).toBeNull();
      ctx.clock.advance(3600_000); // past any backoff
    }
    const [d] = (await claim(1)).deliveries;
    await record(d, 'success');
    const rows = await ctx.ds.query('SELECT 1 FROM sms_webhook_targets WHERE target = $1', [
      `url:${c}:down.c.example`,
    ]);
    expect(rows).toEqual([]);
  });

  it('fails a paused endpoint’s deliveries at the end of their window, unsent', async () => {
    const a = await endpoint();
    await publish(a.tenant, 3);
    for (let i = 0; i < POLICY.pauseAfter; i++) {
      const [d] = (await claim(1)).deliveries;
      await record(d, 'failure');
      ctx.clock.advance(60_000);
    }
    expect((await ctx.get(EndpointsService).list(a.tenant))[0].health.pausedAt).not.toBeNull();
    const attemptsBefore = (await repo.list(a.tenant, { limit: 10 })).map((d) => d.attempts).sort();
    ctx.clock.advance(24 * 3600_000);
    expect(await repo.expirePaused(ctx.clock.now())).toBe(3);
    const after = await repo.list(a.tenant, { limit: 10 });
    expect(after.map((d) => [d.status, d.lastError])).toEqual(
      Array(3).fill(['failed', 'expired while its endpoint was paused']),
    );
    expect(after.map((d) => d.attempts).sort()).toEqual(attemptsBefore);
  });

  it('a replay of a pending delivery resumes its paused endpoint and makes it due now; a healthy one is left alone', async () => {
    const a = await endpoint();
    await publish(a.tenant, 5);
    const failed: ClaimedDelivery[] = [];
    for (let i = 0; i < POLICY.pauseAfter; i++) {
      ctx.clock.advance(60_000); // past any backoff
      const [d] = (await claim(1)).deliveries;
      await record(d, 'failure');
      failed.push(d);
    }
    // The last one failed is due a second after its attempt; the replay makes it due at once.
    const last = failed[failed.length - 1];
    const now = ctx.clock.now();
    const r = await repo.replay(a.tenant, last.id, now);
    expect(r).toMatchObject({
      resumed: true,
      delivery: { id: last.id, status: 'pending', nextAttemptAt: now },
    });
    expect((await ctx.get(EndpointsService).list(a.tenant))[0].health).toMatchObject({
      pausedAt: null,
      consecutiveFailures: 0,
    });
    const { deliveries } = await claim(8);
    expect(perTarget(deliveries)).toEqual({ [a.id]: 2 });
    // Its endpoint healthy now, a pending delivery is not replayed.
    const [other] = await repo.list(a.tenant, { status: 'pending', limit: 1 });
    expect(await repo.replay(a.tenant, other.id, ctx.clock.now())).toBe('pending');
  });
});
