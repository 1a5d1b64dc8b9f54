import { DataSource } from 'typeorm';
import { SweeperService } from '../../src/messaging';
import { SmsRouter } from '../../src/providers';
import { recordHandOvers, runCampaign, tenantWithAudience } from '../campaigns/campaign-support';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/**
 * Four slots of 40 ms each and no pacing limit to speak of: a 400-message campaign keeps the
 * worker busy for seconds. A code sent meanwhile must not wait for it.
 */
describe('priority lanes', () => {
  let t: TestApp;
  let ds: DataSource;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        SMS_WORKER_CONCURRENCY: '4',
        SANDBOX_LATENCY_MS: '40',
        SANDBOX_DELIVERY_DELAY_MS: '10',
        SMS_CAMPAIGN_MPS: '1000',
      },
    });
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

  it('a verification code finds a slot kept for it while bulk messages hold every other one', async () => {
    // Four slots, one kept for codes (LaneSemaphore.reservedShare): the bulk's provider calls are
    // held until the end, so only a kept slot can take the code.
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
    const phones = Array.from({ length: 20 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`);
    await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(bulkUser))
      .send({ phone_numbers: phones, message: 'Open day on Friday' })
      .expect(202);
    await eventually(async () => (held === 3 ? true : undefined), 10_000, 'three bulk calls in flight');
    await new Promise((r) => setTimeout(r, 300));
    expect(held).toBe(3); // the fourth slot stays free for codes
    try {
      const res = await t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth({ tenant: freshTenantId(), user: 'u4' }))
        .send({ phone_number: '+12025559996', purpose: '2fa', code: '246801' })
        .expect(202);
      await eventually(
        async () => (reached.includes(res.body.message_id) ? true : undefined),
        5_000,
        'the code to reach the provider while the bulk holds its slots',
      );
      expect(held).toBe(3);
    } finally {
      release();
    }
    await eventually(async () => (reached.length >= 21 ? true : undefined), 20_000, 'the bulk to drain');
  });

  it('a verification code overtakes a send-bulk queued before it', async () => {
    // Last: the bulk is still draining when the app closes. 1,000 numbers are ten chunk jobs, more
    // than the delivery queue has processing loops (concurrency 4 + 2 for chunks).
    const bulkUser = { tenant: freshTenantId(), roles: ['admin'] };
    const handOvers = recordHandOvers(t);
    const phones = Array.from({ length: 1000 }, (_, i) => `+1312555${String(i).padStart(4, '0')}`);
    await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(bulkUser))
      .send({ phone_numbers: phones, message: 'Open day on Friday' })
      .expect(202);
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
    t = await createTestApp({
      env: {
        SMS_WORKER_CONCURRENCY: '4',
        SANDBOX_LATENCY_MS: '40',
        SANDBOX_DELIVERY_DELAY_MS: '10',
        SMS_CAMPAIGN_MPS: '1000',
      },
    });
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
    const phones = Array.from({ length: 1000 }, (_, i) => `+1646555${String(i).padStart(4, '0')}`);
    await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(bulkUser))
      .send({ phone_numbers: phones, message: 'Open day on Friday' })
      .expect(202);
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
