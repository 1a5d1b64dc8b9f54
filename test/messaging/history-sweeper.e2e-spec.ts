import Redis from 'ioredis';
import { CODE_DELIVERY_QUEUE, DELIVERY_QUEUE } from '../../src/messaging/delivery/delivery-queue';
import { SweeperService } from '../../src/messaging/delivery/sweeper.service';
import { DeliveryQueue } from '../../src/messaging/delivery/delivery-queue';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { waitForStatus } from '../support/messages';
import { allowCountries, NO_CONSENT_NEEDED } from '../support/tenants';
import { eventually } from '../support/wait';

describe('history and the sweeper', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
  });
  afterAll(() => t.close());

  it('pages history newest first with a cursor, and filters', async () => {
    const tenant = freshTenantId();
    const admin = { tenant, user: 1, roles: ['admin'] };
    await allowCountries(t, tenant, ['US', 'TR'], NO_CONSENT_NEEDED);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t
        .http()
        .post('/api/sms/send')
        .set(t.auth(admin))
        .send({
          phone_number: i < 3 ? '+12025550123' : '+905321234567',
          message: `m${i}`,
          user_id: i % 2 ? '99' : '98',
        })
        .expect(202);
      ids.push(res.body.message_id);
    }
    const page1 = await t.http().get('/api/sms/history?limit=2').set(t.auth(admin)).expect(200);
    expect(page1.body.items.map((m: { message_id: string }) => m.message_id)).toEqual([ids[4], ids[3]]);
    const page2 = await t
      .http()
      .get(`/api/sms/history?limit=2&cursor=${page1.body.next_cursor}`)
      .set(t.auth(admin))
      .expect(200);
    expect(page2.body.items.map((m: { message_id: string }) => m.message_id)).toEqual([ids[2], ids[1]]);
    const page3 = await t
      .http()
      .get(`/api/sms/history?limit=2&cursor=${page2.body.next_cursor}`)
      .set(t.auth(admin))
      .expect(200);
    expect(page3.body.items.map((m: { message_id: string }) => m.message_id)).toEqual([ids[0]]);
    expect(page3.body.next_cursor).toBeNull();

    const byUser = await t.http().get('/api/sms/history?user_id=99').set(t.auth(admin)).expect(200);
    expect(byUser.body.items.map((m: { message_id: string }) => m.message_id)).toEqual([ids[3], ids[1]]);
    const byPhone = await t
      .http()
      .get('/api/sms/history?phone_number=%2B905321234567')
      .set(t.auth(admin))
      .expect(200);
    expect(byPhone.body.items).toHaveLength(2);
    const byNational = await t
      .http()
      .get('/api/sms/history?phone_number=(202)%20555-0123')
      .set(t.auth(admin))
      .expect(200);
    expect(byNational.body.items).toHaveLength(3);
    await waitForStatus(t, admin, ids[4], 'delivered');
    const delivered = await t
      .http()
      .get('/api/sms/history?status=delivered&limit=200')
      .set(t.auth(admin))
      .expect(200);
    expect(delivered.body.items.map((m: { message_id: string }) => m.message_id)).toContain(ids[4]);
  });

  it('shows a non-admin only the messages they created', async () => {
    const tenant = freshTenantId();
    const alice = { tenant, user: 'alice' };
    const bob = { tenant, user: 'bob' };
    const a = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(alice))
      .send({ phone_number: '+12025550123', message: 'a' })
      .expect(202);
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(bob))
      .send({ phone_number: '+12025550123', message: 'b' })
      .expect(202);
    const mine = await t.http().get('/api/sms/history').set(t.auth(alice)).expect(200);
    expect(mine.body.items.map((m: { message_id: string }) => m.message_id)).toEqual([a.body.message_id]);
    await t.http().get(`/api/sms/messages/${a.body.message_id}/status`).set(t.auth(bob)).expect(404);
    const all = await t
      .http()
      .get('/api/sms/history')
      .set(t.auth({ tenant, roles: ['admin'] }))
      .expect(200);
    expect(all.body.items).toHaveLength(2);
  });

  it('rejects a limit over 200 and a bad cursor', async () => {
    const who = t.auth({ tenant: freshTenantId() });
    await t.http().get('/api/sms/history?limit=201').set(who).expect(400);
    await t.http().get('/api/sms/history?cursor=bm9wZQ').set(who).expect(400);
  });

  it('still delivers an accepted message after Redis lost its job (the sweeper re-queues it)', async () => {
    const who = { tenant: freshTenantId() };
    const queue = t.get(DeliveryQueue).queue;
    await queue.pause(true); // this worker takes nothing while we lose the job
    try {
      const res = await t
        .http()
        .post('/api/sms/send')
        .set(t.auth(who))
        .send({ phone_number: '+12025550123', message: 'survive' })
        .expect(202);
      const id = res.body.message_id;
      // Lose every key of the delivery queue, as a Redis flush would.
      const redis = new Redis(t.config.get('REDIS_URL'));
      const keys = await redis.keys(`{${t.config.get('REDIS_PREFIX')}}:${DELIVERY_QUEUE}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      expect(await queue.getJob(id)).toBeNull();
      const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
      expect(status.body.status).toBe('queued');
      expect(await t.get(SweeperService).sweep(0)).toBeGreaterThanOrEqual(1);
    } finally {
      await queue.resume(true);
    }
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    await waitForStatus(t, who, history.body.items[0].message_id, 'delivered');
  });

  it('re-queues a lost backlog with each lane’s priority: codes first, promotional behind transactional', async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const { queue, codeQueue } = t.get(DeliveryQueue);
    await queue.pause(true);
    await codeQueue.pause(true);
    try {
      const send = async (message_type: string) =>
        (
          await t
            .http()
            .post('/api/sms/send')
            .set(t.auth(who))
            .send({ phone_number: '+12025550123', message: 'lanes', message_type })
            .expect(202)
        ).body.message_id as string;
      const promotional = await send('general_notification');
      const transactional = await send('appointment_reminder');
      const code = (
        await t
          .http()
          .post('/api/sms/verification/send')
          .set(t.auth(who))
          .send({ phone_number: '+12025550124', purpose: '2fa', code: '246810' })
          .expect(202)
      ).body.message_id as string;
      // Lose every key of the delivery queues, the sweeper's sentinel included (a flush).
      const redis = new Redis(t.config.get('REDIS_URL'));
      for (const name of [DELIVERY_QUEUE, CODE_DELIVERY_QUEUE]) {
        const keys = await redis.keys(`{${t.config.get('REDIS_PREFIX')}}:${name}:*`);
        if (keys.length) await redis.del(...keys);
      }
      await redis.quit();
      // The sweep job (every 2 s) may notice the lost sentinel first and re-queue the backlog
      // itself (then this call finds the sentinel set and answers null): either way, all three.
      const recovered = await t.get(SweeperService).recoverLostJobs();
      if (recovered !== null) expect(recovered).toBeGreaterThanOrEqual(3);
      const requeued = async () =>
        (await queue.getJob(promotional)) &&
        (await queue.getJob(transactional)) &&
        (await codeQueue.getJob(code));
      await eventually(async () => ((await requeued()) ? true : undefined), 5_000, 'the backlog re-queued');
      const priority = async (id: string) => (await queue.getJob(id))?.opts.priority;
      // The code is back on its own queue, ahead of the rest there too.
      expect((await codeQueue.getJob(code))?.opts.priority).toBe(1);
      expect(await queue.getJob(code)).toBeNull();
      expect(await priority(transactional)).toBe(2);
      expect(await priority(promotional)).toBe(10);
    } finally {
      await queue.resume(true);
      await codeQueue.resume(true);
    }
  });
});
