import { DataSource } from 'typeorm';
import { SweeperService } from '../../src/messaging';
import { DeliveryQueue, shardOf } from '../../src/messaging/delivery/delivery-queue';
import { SmsRouter } from '../../src/providers';
import { recordHandOvers, runCampaign, tenantWithAudience } from '../campaigns/campaign-support';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/** The app of these suites: four worker slots (one kept for codes), a sandbox answering in 40 ms. */
function fourSlotApp(env: Record<string, string> = {}): Promise<TestApp> {
  return createTestApp({
    env: { SMS_WORKER_CONCURRENCY: '4', SANDBOX_LATENCY_MS: '40', SANDBOX_DELIVERY_DELAY_MS: '10', ...env },
  });
}

/** A promotional send-bulk of `n` numbers `<prefix>0000`, `<prefix>0001`, … by `who`, accepted. */
async function sendBulk(t: TestApp, who: { tenant: number; roles: string[] }, n: number, prefix: string) {
  await t
    .http()
    .post('/api/sms/send-bulk')
    .set(t.auth(who))
    .send({
      phone_numbers: Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`),
      message: 'Open day on Friday',
    })
    .expect(202);
}

/**
 * Four slots of 40 ms each and no pacing limit to speak of: a 400-message campaign keeps the
 * worker busy for seconds. A code sent meanwhile must not wait for it.
 */
describe('priority lanes', () => {
  let t: TestApp;
  let ds: DataSource;

  beforeAll(async () => {
    t = await fourSlotApp({ SMS_CAMPAIGN_MPS: '1000' });
    ds = t.get(DataSource);
    // The sweeper's first look at a Redis it has not seen re-queues the whole backlog; done here,
    // not in the middle of a measurement.
    await t.get(SweeperService).recoverLostJobs();
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('a verification code reaches the provider within 2 s while a campaign drains, ahead of the campaign messages queued before it', async () => {
    const admin = await tenantWithAudience(t, freshTenantId(), 400);
    const handOvers = recordHandOvers(t);
    const id = await runCampaign(t, admin);
    // The whole campaign is queued (snapshot done) and draining.
    await eventually(async () => {
      const [c] = await ds.query('SELECT snapshot_done FROM sms_campaigns WHERE id = $1', [id]);
      return c.snapshot_done && handOvers.length >= 20 ? true : undefined;
    });

    const user = { tenant: freshTenantId(), user: 'u1' };
    const sentAt = Date.now();
    const res = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(user))
      .send({ phone_number: '+12025559999', purpose: '2fa', code: '135790' })
      .expect(202);
    const code = await eventually(
      async () => handOvers.find((h) => h.messageId === res.body.message_id),
      10_000,
      'the code to reach the provider',
    );

    expect(code.messageType).toBe('2fa_code');
    expect(code.at - sentAt).toBeLessThan(2_000); // the bench target; 5.6 s before the lanes
    // Campaign messages queued before the code were still waiting when it went out.
    const campaignBefore = handOvers.filter((h) => h.tenantId === admin.tenant && h.at <= code.at).length;
    expect(400 - campaignBefore).toBeGreaterThan(100);
    await t.http().post(`/api/sms/campaigns/${id}/cancel`).set(t.auth(admin)).expect(200);
  });

  it('a transactional send also overtakes the campaign', async () => {
    const admin = await tenantWithAudience(t, freshTenantId(), 400);
    const handOvers = recordHandOvers(t);
    const id = await runCampaign(t, admin);
    await eventually(async () => (handOvers.length >= 20 ? true : undefined));
    const user = { tenant: admin.tenant, user: 'u2' };
    const sentAt = Date.now();
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(user))
      .send({
        phone_number: '+12025559998',
        message: 'Your appointment is at 10:00',
        message_type: 'appointment_reminder',
      })
      .expect(202);
    const msg = await eventually(async () => handOvers.find((h) => h.messageId === res.body.message_id));
    expect(msg.at - sentAt).toBeLessThan(2_000);
    expect(handOvers.filter((h) => h.messageType === 'monthly_news' && h.at <= msg.at).length).toBeLessThan(
      300,
    );
    await t.http().post(`/api/sms/campaigns/${id}/cancel`).set(t.auth(admin)).expect(200);
  });

  /**
   * A 20-number bulk whose provider calls are held until `release`: with four slots, one kept for
   * codes (LaneSemaphore.reservedShare), it holds the other three. `reached`: every message id
   * that got to the provider, in order.
   */
  async function bulkHoldingThreeSlots(prefix: string) {
    const bulkUser = { tenant: freshTenantId(), roles: ['admin'] };
    const router = t.get(SmsRouter).router;
    const send = router.send.bind(router);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = 0;
    const reached: string[] = [];
    jest.spyOn(router, 'send').mockImplementation(async (sms) => {
      reached.push(sms.messageId);
      if (sms.tenantId === bulkUser.tenant) {
        held += 1;
        await gate;
        held -= 1;
      }
      return send(sms);
    });
    await sendBulk(t, bulkUser, 20, prefix);
    await eventually(async () => (held === 3 ? true : undefined), 10_000, 'three bulk calls in flight');
    return {
      reached,
      held: () => held,
      /** Lets the bulk go, and waits until it has drained (and the one other message went). */
      drain: async () => {
        release();
        await eventually(async () => (reached.length >= 21 ? true : undefined), 20_000, 'the bulk to drain');
      },
    };
  }

  it('a verification code finds a slot kept for it while bulk messages hold every other one', async () => {
    const bulk = await bulkHoldingThreeSlots('+1415555');
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(bulk.held()).toBe(3); // the fourth slot stays free for codes
      const res = await t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth({ tenant: freshTenantId(), user: 'u4' }))
        .send({ phone_number: '+12025559996', purpose: '2fa', code: '246801' })
        .expect(202);
      await eventually(
        async () => (bulk.reached.includes(res.body.message_id) ? true : undefined),
        5_000,
        'the code to reach the provider while the bulk holds its slots',
      );
      expect(bulk.held()).toBe(3);
    } finally {
      await bulk.drain();
    }
  });

  it('a code the sweeper re-queues (its enqueue failed) also finds the slot kept for codes', async () => {
    const bulk = await bulkHoldingThreeSlots('+1415556');
    try {
      // Redis refuses the code's job: the row is committed, and the sweeper queues it (laneless).
      jest.spyOn(t.get(DeliveryQueue), 'enqueue').mockRejectedValueOnce(new Error('Redis is away'));
      const res = await t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth({ tenant: freshTenantId(), user: 'u5' }))
        .send({ phone_number: '+12025559995', purpose: '2fa', code: '864201' })
        .expect(202);
      await t
        .get(SweeperService)
        .requeue([{ id: res.body.message_id, messageType: '2fa_code', campaign: false }]);
      // Before, a laneless job took the transactional lane's slots, all held by the bulk here.
      await eventually(
        async () => (bulk.reached.includes(res.body.message_id) ? true : undefined),
        5_000,
        'the swept code to reach the provider while the bulk holds its slots',
      );
      expect(bulk.held()).toBe(3);
    } finally {
      await bulk.drain();
    }
  });

  it('a verification code overtakes a send-bulk queued before it', async () => {
    // Last: the bulk is still draining when the app closes. 1,000 numbers are ten chunk jobs, more
    // than the delivery queue has processing loops (concurrency 4 + 2 for chunks).
    const bulkUser = { tenant: freshTenantId(), roles: ['admin'] };
    const handOvers = recordHandOvers(t);
    await sendBulk(t, bulkUser, 1000, '+1312555');
    await eventually(async () => (handOvers.length >= 20 ? true : undefined));

    const user = { tenant: freshTenantId(), user: 'u3' };
    const askedAt = handOvers.length;
    const res = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(user))
      .send({ phone_number: '+12025559997', purpose: '2fa', code: '975310' })
      .expect(202);
    const code = await eventually(
      async () => handOvers.find((h) => h.messageId === res.body.message_id),
      10_000,
      'the code to reach the provider',
    );
    // Four slots: the code takes the next one free, a few bulk messages at most go first. Waiting
    // for a processing loop held by a bulk chunk job would have let the rest of a chunk go first.
    const bulkMeanwhile = handOvers.filter(
      (h, i) => i >= askedAt && h.tenantId === bulkUser.tenant && h.at <= code.at,
    ).length;
    expect(bulkMeanwhile).toBeLessThan(30);
    expect(1000 - handOvers.filter((h) => h.tenantId === bulkUser.tenant).length).toBeGreaterThan(500);
  });
});

/**
 * Tenants take turns at the worker's slots within a lane: a campaign executed while another
 * tenant's bulk fills the worker goes out beside it, not after it. Before (arrival order only), the
 * bulk's chunk jobs queued hundreds of messages in the slots' queue ahead of the campaign's first.
 */
describe('tenants share the slots', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await fourSlotApp({ SMS_CAMPAIGN_MPS: '1000' });
    await t.get(SweeperService).recoverLostJobs();
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it("a campaign executed while another tenant's bulk drains goes out beside it, not after it", async () => {
    const admin = await tenantWithAudience(t, freshTenantId(), 100);
    const bulkUser = { tenant: freshTenantId(), roles: ['admin'] };
    const handOvers = recordHandOvers(t);
    // Promotional (general_notification), the campaign's priority: 1,000 numbers are ten chunk
    // jobs, six of them in the delivery queue's processing loops at once (600 messages waiting).
    await sendBulk(t, bulkUser, 1000, '+1646555');
    await eventually(async () => (handOvers.length >= 20 ? true : undefined));
    await runCampaign(t, admin);
    const bulkBefore = handOvers.filter((h) => h.tenantId === bulkUser.tenant).length;
    await eventually(
      async () => (handOvers.filter((h) => h.tenantId === admin.tenant).length === 100 ? true : undefined),
      30_000,
      'the whole campaign to reach the provider',
    );
    const last = handOvers.filter((h) => h.tenantId === admin.tenant).pop()!;
    const bulkMeanwhile =
      handOvers.filter((h) => h.tenantId === bulkUser.tenant && h.at <= last.at).length - bulkBefore;
    // Turns: about one bulk message per campaign message (104 here; the campaign may hold 3 of the
    // 4 slots, one is kept for codes). In arrival order every waiting bulk message went first (576).
    expect(bulkMeanwhile).toBeLessThan(250);
    expect(handOvers.filter((h) => h.tenantId === bulkUser.tenant).length).toBeLessThan(1000);
  });
});

/**
 * Shards (SMS_QUEUE_SHARDS): a worker takes jobs from every shard side by side, and the tenants'
 * messages then take turns at its slots, so a tenant on a quiet shard is not held back by a bulk on
 * a busy one.
 */
describe('tenants on different shards share a worker', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await fourSlotApp({ SMS_QUEUE_SHARDS: '4' });
    // Shards 1-3 are new to this run's Redis: the sweeper re-queues the whole backlog the suites
    // before left queued, in the transactional lane's slots. Drained first where it can be (the
    // figures below count one tenant against the other, so a backlog only slows them down).
    const startedAt = new Date();
    await t.get(SweeperService).recoverLostJobs();
    await eventually(async () => {
      const [r] = await t
        .get(DataSource)
        .query(`SELECT count(*)::int AS n FROM sms_messages WHERE status = 'queued' AND created_at < $1`, [
          startedAt,
        ]);
      return r.n === 0 ? true : undefined;
    }, 60_000).catch(() => undefined);
  }, 90_000);
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it("a bulk on one shard goes out beside another tenant's larger bulk on another, and both drain", async () => {
    // Two different shards, neither shard 0 (whose queues the suites before may have left jobs in).
    const onShard = (avoid: number[]) => {
      for (;;) {
        const tenant = freshTenantId();
        if (!avoid.includes(shardOf(4, 'promotional', tenant, ''))) return { tenant, roles: ['admin'] };
      }
    };
    const big = onShard([0]);
    const small = onShard([0, shardOf(4, 'promotional', big.tenant, '')]);
    const handOvers = recordHandOvers(t);
    const count = (tenant: number) => handOvers.filter((h) => h.tenantId === tenant).length;
    // 600 numbers: six chunk jobs, as many as the shard's delivery queue has processing loops.
    await sendBulk(t, big, 600, '+1718555');
    await eventually(
      async () => (count(big.tenant) >= 20 ? true : undefined),
      60_000,
      'the big bulk to start',
    );
    await sendBulk(t, small, 100, '+1917555');
    const bigBefore = count(big.tenant);
    await eventually(async () => (count(small.tenant) === 100 ? true : undefined), 60_000, 'the small bulk');
    const last = handOvers.filter((h) => h.tenantId === small.tenant).pop()!;
    const bigMeanwhile =
      handOvers.filter((h) => h.tenantId === big.tenant && h.at <= last.at).length - bigBefore;
    // About one each in turn; in arrival order the big bulk's waiting messages went first (575).
    expect(bigMeanwhile).toBeLessThan(250);
    await eventually(async () => (count(big.tenant) === 600 ? true : undefined), 60_000, 'the big bulk');
    expect(new Set(handOvers.map((h) => h.messageId)).size).toBe(handOvers.length);
  }, 180_000);
});

/**
 * SMS_WORKER_QUEUES: a worker may take jobs from some delivery queues only, so that codes can have
 * processes of their own, away from the bulk work (docs/ARCHITECTURE.md "Lanes and pacing").
 */
describe('workers of some queues only (SMS_WORKER_QUEUES)', () => {
  let codesOnly: TestApp;
  let rest: TestApp | undefined;

  beforeAll(async () => {
    codesOnly = await fourSlotApp({ SMS_WORKER_QUEUES: 'codes' });
  });
  afterAll(async () => {
    await rest?.close();
    await codesOnly.close();
  });

  it('a codes-only worker sends a code and leaves a reminder sent before it for a worker of the delivery queue', async () => {
    const ds = codesOnly.get(DataSource);
    const statusOf = async (id: string) =>
      ((await ds.query('SELECT status FROM sms_messages WHERE id = $1', [id])) as { status: string }[])[0]
        ?.status;
    const user = { tenant: freshTenantId(), user: 'u1' };
    const reminder = await codesOnly
      .http()
      .post('/api/sms/send')
      .set(codesOnly.auth(user))
      .send({
        phone_number: '+12025559996',
        message: 'Your appointment is at 10:00',
        message_type: 'appointment_reminder',
      })
      .expect(202);
    const code = await codesOnly
      .http()
      .post('/api/sms/verification/send')
      .set(codesOnly.auth(user))
      .send({ phone_number: '+12025559997', purpose: '2fa', code: '135790' })
      .expect(202);
    await eventually(
      async () => (['sent', 'delivered'].includes(await statusOf(code.body.message_id)) ? true : undefined),
      10_000,
      'the code to go out',
    );
    // Accepted first, yet still waiting in its queue: nobody here takes the delivery queue.
    const reminderId: string = reminder.body.message_id;
    expect(await statusOf(reminderId)).toBe('queued');
    const job = await codesOnly
      .get(DeliveryQueue)
      .queueFor('transactional', user.tenant, reminderId)
      .getJob(reminderId);
    expect(await job?.getState()).toBe('waiting');

    rest = await fourSlotApp({ SMS_WORKER_QUEUES: 'delivery,campaigns' });
    await eventually(
      async () => (['sent', 'delivered'].includes(await statusOf(reminderId)) ? true : undefined),
      10_000,
      'the reminder to go out once a worker takes the delivery queue',
    );
  }, 60_000);
});
