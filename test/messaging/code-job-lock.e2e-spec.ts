import Bull from 'bull';
import { DataSource } from 'typeorm';
import { DeliveryQueue } from '../../src/messaging/delivery/delivery-queue';
import { eventually } from '../support/wait';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/**
 * A code's job taken by a worker that then dies (SIGKILL, a lost host) is active in Bull with that
 * worker's lock. A live worker puts it back once the lock lapses: the code queues' locks are short
 * (CODE_QUEUE_SETTINGS), so the code goes out in seconds, not after Bull's 30–60 s.
 */
describe('a code whose job a dead worker held', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
  });
  afterAll(() => t.close());

  it('is sent once by a live worker within ~10 s of the death', async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const codeQueues = t.get(DeliveryQueue).shards.map((s) => s.codeQueue);
    // This process's worker stands aside while the "dead" one takes the job.
    await Promise.all(codeQueues.map((q) => q.pause(true)));
    let dead: Bull.Queue | undefined;
    try {
      const res = await t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .send({ phone_number: '+12025550188', purpose: '2fa' })
        .expect(202);
      const id = res.body.message_id as string;
      const home = (await Promise.all(codeQueues.map(async (q) => ((await q.getJob(id)) ? q : null)))).find(
        (q) => q !== null,
      );
      expect(home).toBeDefined();
      // Another worker of the same build: the same queue, prefix and settings (its lock length).
      dead = new Bull(home!.name, {
        redis: t.config.get('REDIS_URL'),
        prefix: (home as unknown as { keyPrefix: string }).keyPrefix,
        settings: (home as unknown as { settings: Bull.AdvancedSettings }).settings,
      });
      const taken = await dead.getNextJob();
      expect(taken?.id).toBe(id);
      expect(await (await home!.getJob(id))?.isActive()).toBe(true);
      // It dies holding the job: its connections drop, nothing is released.
      for (const c of (dead as unknown as { clients: { disconnect(): void }[] }).clients) c.disconnect();
      const diedAt = Date.now();
      await Promise.all(codeQueues.map((q) => q.resume(true)));
      // Handed to the provider (the sandbox then delivers it): polled in the ledger, not over HTTP
      // (the token's request limit).
      const ds = t.get(DataSource);
      await eventually(
        async () => {
          const [m] = await ds.query('SELECT sent_at FROM sms_messages WHERE id = $1', [id]);
          return m?.sent_at ?? undefined;
        },
        40_000,
        'the code sent',
      );
      const tookMs = Date.now() - diedAt;
      // Bull's default lock (30 s, checked every 30 s) would take 30–60 s here.
      expect(tookMs).toBeLessThan(15_000);
      const [row] = await ds.query('SELECT attempts FROM sms_messages WHERE id = $1', [id]);
      expect(row.attempts).toBe(1);
    } finally {
      await Promise.all(codeQueues.map((q) => q.resume(true)));
      await dead?.close(true).catch(() => undefined);
    }
  }, 60_000);
});
