import Bull from 'bull';
import { DataSource } from 'typeorm';
import { DeliveryQueue, DeliveryShard } from '../../src/messaging/delivery/delivery-queue';
import { eventually } from '../support/wait';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/**
 * A message's job taken by a worker that then dies (SIGKILL, a lost host) is active in Bull with
 * that worker's lock. A live worker puts it back once the lock lapses: the delivery queues' locks
 * are short (DELIVERY_QUEUE_SETTINGS), so the message goes out in seconds, not after Bull's 30–60 s.
 */
describe('a message whose job a dead worker held', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
  });
  afterAll(() => t.close());

  const settingsOf = (q: Bull.Queue) => (q as unknown as { settings: Bull.AdvancedSettings }).settings;

  it('every delivery queue of every shard locks its jobs for 5 s, checked every 2.5 s', () => {
    const queues = t.get(DeliveryQueue).shards.flatMap((s) => [s.queue, s.campaignQueue, s.codeQueue]);
    expect(queues.length).toBeGreaterThanOrEqual(3);
    for (const q of queues)
      expect({ queue: q.name, ...settingsOf(q) }).toMatchObject({
        queue: q.name,
        lockDuration: 5_000,
        stalledInterval: 2_500,
      });
  });

  /**
   * Sends one message with this process's worker standing aside on `lane`'s queues, lets a second
   * worker of the same build take its job and die holding it, and answers how long after the death
   * the message was handed to the provider (sent once).
   */
  async function sentAfterDeath(
    lane: (s: DeliveryShard) => Bull.Queue,
    send: () => Promise<string>,
  ): Promise<number> {
    const queues = t.get(DeliveryQueue).shards.map(lane);
    await Promise.all(queues.map((q) => q.pause(true)));
    let dead: Bull.Queue | undefined;
    try {
      const id = await send();
      const home = (await Promise.all(queues.map(async (q) => ((await q.getJob(id)) ? q : null)))).find(
        (q) => q !== null,
      );
      expect(home).toBeDefined();
      // Another worker of the same build: the same queue, prefix and settings (its lock length).
      dead = new Bull(home!.name, {
        redis: t.config.get('REDIS_URL'),
        prefix: (home as unknown as { keyPrefix: string }).keyPrefix,
        settings: settingsOf(home!),
      });
      const taken = await dead.getNextJob();
      expect(taken?.id).toBe(id);
      expect(await (await home!.getJob(id))?.isActive()).toBe(true);
      // It dies holding the job: its connections drop, nothing is released.
      for (const c of (dead as unknown as { clients: { disconnect(): void }[] }).clients) c.disconnect();
      const diedAt = Date.now();
      await Promise.all(queues.map((q) => q.resume(true)));
      // Handed to the provider (the sandbox then delivers it): polled in the ledger, not over HTTP
      // (the token's request limit).
      const ds = t.get(DataSource);
      await eventually(
        async () => {
          const [m] = await ds.query('SELECT sent_at FROM sms_messages WHERE id = $1', [id]);
          return m?.sent_at ?? undefined;
        },
        40_000,
        'the message sent',
      );
      const tookMs = Date.now() - diedAt;
      const [row] = await ds.query('SELECT attempts FROM sms_messages WHERE id = $1', [id]);
      expect(row.attempts).toBe(1);
      return tookMs;
    } finally {
      await Promise.all(queues.map((q) => q.resume(true)));
      await dead?.close(true).catch(() => undefined);
    }
  }

  it('a code is sent once by a live worker within ~10 s of the death', async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const tookMs = await sentAfterDeath(
      (s) => s.codeQueue,
      async () => {
        const res = await t
          .http()
          .post('/api/sms/verification/send')
          .set(t.auth(who))
          .send({ phone_number: '+12025550188', purpose: '2fa' })
          .expect(202);
        return res.body.message_id as string;
      },
    );
    // Bull's default lock (30 s, checked every 30 s) would take 30–60 s here.
    expect(tookMs).toBeLessThan(15_000);
  }, 60_000);

  it('a transactional send (a reminder) is sent once by a live worker within ~10 s of the death', async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const tookMs = await sentAfterDeath(
      (s) => s.queue,
      async () => {
        const res = await t
          .http()
          .post('/api/sms/send')
          .set(t.auth(who))
          .send({
            phone_number: '+12025550189',
            message: 'Your appointment is tomorrow at 10:00',
            message_type: 'appointment_reminder',
          })
          .expect(202);
        return res.body.message_id as string;
      },
    );
    expect(tookMs).toBeLessThan(15_000);
  }, 60_000);
});
