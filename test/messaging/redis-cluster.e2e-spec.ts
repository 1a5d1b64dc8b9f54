import { Cluster } from 'ioredis';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { DeliveryQueue } from '../../src/messaging/delivery/delivery-queue';
import { SweeperService } from '../../src/messaging/delivery/sweeper.service';
import { keySlot } from '../../src/redis/key-slot';
import { RedisService } from '../../src/redis/redis.module';
import { FAKE_TWILIO_TOKEN, FakeTwilio } from '../fakes/fake-twilio';
import { fakeTwilioEnv } from '../fakes/provider-env';
import { closeClusterApp } from '../support/cluster-app';
import { cancelLeftoverMessages, waitForStatus } from '../support/messages';
import { RedisClusterHandle, startRedisCluster, tenantApart } from '../support/redis-cluster';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

const PUBLIC_BASE_URL = 'https://sms.example.test';
const SHARDS = 4;

/**
 * The messaging flows on a Redis Cluster of 3 masters and 3 replicas (test/support/redis-cluster.ts):
 * every connection a cluster client, the delivery queues in SHARDS hash-tagged shards. Then a
 * master is killed while a bulk drains through the fake Twilio: after the failover every message
 * is sent, each exactly once.
 */
describe('on a Redis Cluster', () => {
  const fake = new FakeTwilio();
  let cluster: RedisClusterHandle;
  let t: TestApp;
  let db: DataSource;
  // Distinct numbers (the fake's calls are counted per number), from a random start per run.
  let unique = Math.floor(Math.random() * 9000);
  const number = () => `+1202556${1000 + (unique++ % 9000)}`;

  beforeAll(async () => {
    await cancelLeftoverMessages();
    cluster = await startRedisCluster({ nodeTimeoutMs: 2000 });
    t = await createTestApp({
      env: {
        ...fakeTwilioEnv(await fake.start()),
        SMS_PROVIDERS: 'twilio',
        PUBLIC_BASE_URL,
        REDIS_CLUSTER_NODES: cluster.nodes,
        // A prefix of its own: the cluster is fresh, but the shared teardown only knows the run's.
        REDIS_PREFIX: `${process.env.REDIS_PREFIX ?? 'sms-test'}-cluster`,
        SMS_QUEUE_SHARDS: String(SHARDS),
        SMS_RATE_LIMIT: '3',
        SMS_CODE_SENDS_PER_HOUR: '2',
        SMS_ADMIN_RATE_LIMIT: '100000',
        SMS_WORKER_CONCURRENCY: '10',
        SMS_RETRY_BASE_MS: '200',
      },
    });
    db = t.get(DataSource);
    // Until its cluster client is connected, the app answers 503 (as it does while Redis is down).
    await eventually(
      async () => (t.get(RedisService).isUp() ? true : undefined),
      20_000,
      'Redis Cluster connected',
    );
  }, 60_000);
  // The last test closes the app after the failover; should that close not finish, the app's
  // cluster clients are cut here (closeClusterApp).
  let closing: Promise<unknown> | undefined;
  afterAll(async () => {
    try {
      await closeClusterApp(t, closing);
    } finally {
      await fake.stop();
      await cluster?.stop();
    }
  }, 60_000);

  const calls = (to: string) => fake.sent.filter((m) => m.to === to).length;

  /**
   * A tenant whose code shard is on one master and whose accept keys (the request and recipient
   * windows, the code windows) are on others: the accept answers, only the enqueue meets the fault.
   */
  const codeShardApart = () => {
    const redis = t.get(RedisService);
    const queue = t.get(DeliveryQueue);
    return tenantApart(
      cluster,
      (n) => keySlot(queue.shardFor('code', n, '').codeQueue.toKey('')),
      (n) =>
        [redis.key('rrl', n, 'u1'), redis.key('rl', n, 'u1'), redis.keyInSlot(`code:${n}`, 'rl')].map(
          keySlot,
        ),
    );
  };

  it('connects every client to the cluster and spreads the delivery shards over its masters', async () => {
    const redis = t.get(RedisService);
    expect(redis.clustered).toBe(true);
    expect(redis.client).toBeInstanceOf(Cluster);
    const queues = t.get(DeliveryQueue);
    expect(queues.shards).toHaveLength(SHARDS);
    const prefixes = queues.shards.map((s) => s.queue.toKey(''));
    expect(new Set(prefixes.map(keySlot)).size).toBe(SHARDS);
    for (const q of queues.all()) expect(q.client).toBeInstanceOf(Cluster);
  });

  it("shares one client among the process's queues; each subscriber and blocking client is its queue's own", async () => {
    // Bull's typings name only `client`; `eclient` and `bclient` are its lazy getters of the others.
    const queues = t.get(DeliveryQueue).all() as unknown as {
      client: Cluster;
      eclient: Cluster;
      bclient: Cluster;
    }[];
    // Each cluster client holds connections to every node and reloads the slot map on a timer.
    expect(new Set(queues.map((q) => q.client)).size).toBe(1);
    expect(new Set(queues.map((q) => q.eclient)).size).toBe(queues.length);
    expect(new Set(queues.map((q) => q.bclient)).size).toBe(queues.length);
    expect(queues[0].bclient).not.toBe(queues[0].client);
  });

  it('sends, answers the status and applies a signed receipt', async () => {
    const who = { tenant: freshTenantId() };
    const to = number();
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: to, message: 'hello cluster' })
      .expect(202);
    const sent = await waitForStatus(t, who, res.body.message_id, 'sent', 20_000);
    const params = { MessageSid: sent.provider_message_id, MessageStatus: 'delivered' };
    const signature = twilio.getExpectedTwilioSignature(
      FAKE_TWILIO_TOKEN,
      `${PUBLIC_BASE_URL}/api/sms/webhooks/twilio/status`,
      params,
    );
    await t
      .http()
      .post('/api/sms/webhooks/twilio/status')
      .type('form')
      .set('X-Twilio-Signature', signature)
      .send(params)
      .expect(204);
    await waitForStatus(t, who, res.body.message_id, 'delivered');
    expect(calls(to)).toBe(1);
  });

  it('sends verification codes (their windows are one script over one slot), refuses the third in the hour (SMS_CODE_SENDS_PER_HOUR 2), and checks one', async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const to = number();
    const send = () =>
      t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .send({ phone_number: to, purpose: '2fa', code: '135790' });
    const first = await send().expect(202);
    await waitForStatus(t, who, first.body.message_id, 'sent', 20_000);
    await send().expect(202);
    const refused = await send().expect(429);
    expect(refused.body.details[0].rule).toBe('code_number_limit');
    const check = await t
      .http()
      .post('/api/sms/verification/check')
      .set(t.auth(who))
      .send({ phone_number: to, purpose: '2fa', code: '135790' })
      .expect(200);
    expect(check.body.valid).toBe(true);
  });

  it('keeps an idempotency key and the hourly rate limit', async () => {
    const who = { tenant: freshTenantId() };
    const send = (to: string, key?: string) => {
      const req = t.http().post('/api/sms/send').set(t.auth(who));
      if (key) req.set('Idempotency-Key', key);
      return req.send({ phone_number: to, message: 'once' });
    };
    const to = number();
    const a = await send(to, 'k-1').expect(202);
    const b = await send(to, 'k-1').expect(202);
    expect(b.body.message_id).toBe(a.body.message_id);
    await send(number()).expect(202);
    await send(number()).expect(202);
    const refused = await send(number()).expect(429);
    expect(refused.headers['retry-after']).toBeDefined();
    await waitForStatus(t, who, a.body.message_id, 'sent', 20_000);
    expect(calls(to)).toBe(1);
  });

  it('drains bulks of several tenants through every shard', async () => {
    const tenants = [freshTenantId(), freshTenantId(), freshTenantId()];
    const all: { id: string; to: string }[] = [];
    for (const tenant of tenants) {
      const phones = Array.from({ length: 40 }, () => number());
      const res = await t
        .http()
        .post('/api/sms/send-bulk')
        .set(t.auth({ tenant, roles: ['admin'] }))
        .send({ phone_numbers: phones, message: 'bulk on a cluster' })
        .expect(202);
      (res.body.message_ids as string[]).forEach((id, i) => all.push({ id, to: phones[i] }));
    }
    await eventually(
      async () => {
        const [{ n }] = await db.query(
          `SELECT count(*)::int AS n FROM sms_messages WHERE id = ANY($1) AND status = 'sent'`,
          [all.map((m) => m.id)],
        );
        return n === all.length ? true : undefined;
      },
      30_000,
      `${all.length} messages sent`,
    );
    for (const m of all) expect(calls(m.to)).toBe(1);
  });

  it("sends a code whose shard's master stops answering just after taking its job: its second job, on another master's shard, sends it, and the first then finds it sent", async () => {
    const queue = t.get(DeliveryQueue);
    const { tenant, victim } = await codeShardApart();
    const who = { tenant, user: 'u1' };
    const to = number();
    const own = queue.shardFor('code', tenant, '').codeQueue;
    const add = own.addBulk.bind(own);
    // The master takes the job, then stops before a worker has it: this process's worker does not
    // take from that queue until the master is stopped (a local pause), then cannot reach it. Without
    // the second job nothing would send the code before the master answers or is replaced.
    await own.pause(true, true);
    const spy = jest.spyOn(own, 'addBulk').mockImplementation(async (jobs) => {
      const added = await add(jobs);
      cluster.pause(victim);
      void own.resume(true);
      return added;
    });
    let id: string;
    try {
      const res = await t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .send({ phone_number: to, purpose: '2fa' })
        .expect(202);
      id = res.body.message_id as string;
      expect(spy).toHaveBeenCalledTimes(1);
      // CODE_HEDGE_MS (1 s), then a claim and a call: well before the master's failover could
      // begin (its node timeout is 2 s, then an election).
      await waitForStatus(t, who, id, 'sent', 2_000);
    } finally {
      spy.mockRestore();
      cluster.resume(victim);
      await own.resume(true);
    }
    await cluster.waitHealthy(30_000);
    // The first job runs once its master answers, and skips the message it finds sent.
    await eventually(
      async () => ((await own.getJob(id)) === null ? true : undefined),
      20_000,
      'the first job done',
    );
    expect(calls(to)).toBe(1);
    const sends = await db.query(
      `SELECT count(*)::int AS n FROM sms_message_events WHERE message_id = $1 AND status = 'sent'`,
      [id],
    );
    expect(sends[0].n).toBe(1);
  });

  it("sends a code at once while the master of its shard does not answer: the job goes to another shard's code queue, and the next code's straight there", async () => {
    const queue = t.get(DeliveryQueue);
    const { tenant, victim } = await codeShardApart();
    const who = { tenant, user: 'u1' };
    const [to, next] = [number(), number()];
    const own = jest.spyOn(queue.shardFor('code', tenant, '').codeQueue, 'addBulk');
    const code = async (phone: string) => {
      const res = await t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .send({ phone_number: phone, purpose: '2fa' })
        .expect(202);
      // Without the fallback the job waits on the silent master (then for the sweeper's minute).
      await waitForStatus(t, who, res.body.message_id, 'sent', 10_000);
    };
    cluster.pause(victim);
    try {
      await code(to);
      expect(own).toHaveBeenCalledTimes(1); // tried first, not answered in time
      // The next code does not wait on it again: the shard is passed over for a while.
      await code(next);
      expect(own).toHaveBeenCalledTimes(1);
    } finally {
      own.mockRestore();
      cluster.resume(victim);
    }
    await cluster.waitHealthy(30_000);
    expect(calls(to)).toBe(1);
    expect(calls(next)).toBe(1);
  });

  it('moves to the promoted replica of a master that stops answering with its connections open (a frozen machine), while it stays frozen', async () => {
    const redis = t.get(RedisService);
    const queue = t.get(DeliveryQueue);
    // A tenant whose recipient window and delivery shard are on the frozen master, its request-rate
    // window elsewhere.
    let found: { tenant: number; victim: number } | undefined;
    while (!found) {
      const apart = await tenantApart(
        cluster,
        (n) => keySlot(redis.key('rl', n, 'u1')),
        (n) => [keySlot(redis.key('rrl', n, 'u1'))],
      );
      const shard = queue.shardFor('transactional', apart.tenant, '').queue;
      if ((await cluster.masterOf(keySlot(shard.toKey('')))) === apart.victim) found = apart;
    }
    const { tenant, victim } = found;
    const who = { tenant, user: 'u1' };
    const slot = keySlot(redis.key('rl', tenant, 'u1'));
    const to = number();
    cluster.pause(victim);
    try {
      await eventually(
        async () => ((await cluster.masterOf(slot).catch(() => victim)) !== victim ? true : undefined),
        30_000,
        'its replica promoted',
      );
      // No connection ends and no answer comes, so nothing but the periodic reload of the slot map
      // tells the clients (the api's and Bull's) where the slots went.
      const id = await eventually(
        async () => {
          const res = await t
            .http()
            .post('/api/sms/send')
            .set(t.auth(who))
            .send({ phone_number: to, message: 'frozen master' });
          return res.status === 202 ? (res.body.message_id as string) : undefined;
        },
        15_000,
        'a send accepted after the promotion',
      );
      await waitForStatus(t, who, id, 'sent', 15_000);
    } finally {
      cluster.resume(victim);
    }
    await cluster.waitHealthy(30_000);
    expect(calls(to)).toBe(1);
  }, 90_000);

  it('loses and doubles nothing when a master is killed mid-drain, and resumes after the failover', async () => {
    const tenants = [freshTenantId(), freshTenantId(), freshTenantId(), freshTenantId()];
    // A slow provider, so the drain is still running when the master goes.
    fake.onRequest = () => new Promise((r) => setTimeout(r, 20));
    const all: { id: string; to: string }[] = [];
    for (const tenant of tenants) {
      const phones = Array.from({ length: 50 }, () => number());
      const res = await t
        .http()
        .post('/api/sms/send-bulk')
        .set(t.auth({ tenant, roles: ['admin'] }))
        .send({ phone_numbers: phones, message: 'failover' })
        .expect(202);
      (res.body.message_ids as string[]).forEach((id, i) => all.push({ id, to: phones[i] }));
    }
    const ids = all.map((m) => m.id);
    const sentCount = async () =>
      Number(
        (
          await db.query(
            `SELECT count(*)::int AS n FROM sms_messages WHERE id = ANY($1) AND status = 'sent'`,
            [ids],
          )
        )[0].n,
      );
    // Mid-drain: some sent, most not.
    await eventually(
      async () => ((await sentCount()) >= 20 ? true : undefined),
      20_000,
      'the drain to start',
    );
    // The master of a shard that still has jobs waiting.
    const waiting = await Promise.all(
      t
        .get(DeliveryQueue)
        .all()
        .map(async (q) => ({ q, n: (await q.getJobCounts()).waiting })),
    );
    const busiest = waiting.sort((a, b) => b.n - a.n)[0].q;
    const victim = await cluster.masterOf(keySlot(busiest.toKey('')));
    await cluster.kill(victim);
    const before = await sentCount();
    expect(before).toBeLessThan(all.length);
    await cluster.waitHealthy(30_000);
    // What the failover may have lost (writes the replica had not yet received) the sweeper
    // re-queues from PostgreSQL: its pass runs here as the sweep job would, with a shorter idle time.
    const sweeper = t.get(SweeperService);
    await eventually(
      async () => {
        if ((await sentCount()) === all.length) return true;
        await sweeper.recoverLostJobs().catch(() => null);
        await sweeper.sweep(10_000).catch(() => 0);
        return undefined;
      },
      60_000,
      `${all.length} messages sent after the failover`,
    ).catch(async (e: Error) => {
      const rows = await db.query(
        `SELECT status, count(*)::int AS n FROM sms_messages WHERE id = ANY($1) GROUP BY status`,
        [ids],
      );
      throw new Error(`${e.message}; seen ${JSON.stringify(rows)}`, { cause: e });
    });
    const doubled = all.filter((m) => calls(m.to) !== 1);
    const events = doubled.length
      ? await db.query(
          `SELECT message_id, status, source, payload FROM sms_message_events WHERE message_id = ANY($1) ORDER BY id`,
          [doubled.map((m) => m.id)],
        )
      : [];
    expect({ doubled, events }).toEqual({ doubled: [], events: [] });
    fake.onRequest = undefined;
  }, 120_000);

  it('closes promptly after the failover, with the dead master still down', async () => {
    // A queue's close reconnects Bull's blocking client; with ioredis's cluster ready check that
    // reconnection could pick the dead master, fail and start over forever (the close never ended).
    const started = Date.now();
    const closed = await Promise.race([
      (closing = t.close()).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000).unref()),
    ]);
    expect({ closed, within: Date.now() - started < 15_000 }).toEqual({ closed: true, within: true });
  }, 30_000);
});
