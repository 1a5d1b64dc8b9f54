import { Cluster } from 'ioredis';
import { DataSource } from 'typeorm';
import { keySlot } from '../../src/redis/key-slot';
import { SmsRouter } from '../../src/providers';
import { RedisService, slotMasterGone } from '../../src/redis/redis.module';
import { LedgerLimits } from '../../src/messaging/policies/ledger-limits';
import { closeClusterApp } from '../support/cluster-app';
import { cancelLeftoverMessages } from '../support/messages';
import { RedisClusterHandle, startRedisCluster, tenantApart } from '../support/redis-cluster';
import { createTestApp, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/**
 * Requests during a Redis Cluster failover: the master of the code windows' slot is SIGKILLed and
 * its replica not yet promoted (cluster-node-timeout 5 s). ioredis retries such a command on the
 * refreshed slot map for seconds; the accept gives it REDIS_COMMAND_TIMEOUT_MS, as on one Redis.
 * A code is then counted on the ledger (LedgerLimits) and accepted, its limits still exact; any
 * other message answers 503 with Retry-After, having stored nothing, instead of hanging until the
 * failover (and perhaps committing after its client gave up).
 */
describe('an accept during a Redis Cluster failover', () => {
  let cluster: RedisClusterHandle;
  let t: TestApp;

  beforeAll(async () => {
    await cancelLeftoverMessages();
    cluster = await startRedisCluster({ nodeTimeoutMs: 5000 });
    t = await createTestApp({
      env: {
        REDIS_CLUSTER_NODES: cluster.nodes,
        REDIS_PREFIX: `${process.env.REDIS_PREFIX ?? 'sms-test'}-cluster-failover`,
        REDIS_COMMAND_TIMEOUT_MS: '500',
        SMS_QUEUE_SHARDS: '4',
        SMS_CODE_SENDS_PER_HOUR: '2',
      },
    });
    await eventually(
      async () => (t.get(RedisService).isUp() ? true : undefined),
      20_000,
      'Redis Cluster connected',
    );
  }, 60_000);
  afterAll(async () => {
    try {
      await closeClusterApp(t);
    } finally {
      await cluster?.stop();
    }
  }, 60_000);

  it('accepts codes on the ledger within the command timeout, limits exact, and sends them; other messages answer 503 with Retry-After and store nothing; the request-rate limit passes; after the promotion Redis counts what the ledger took', async () => {
    const redis = t.get(RedisService);
    const ledger = t.get(LedgerLimits);
    // The code windows' master is the one killed; the request and recipient windows are elsewhere.
    // It also holds the first provider's down flag, which readiness reads.
    const flag = redis.key('providers', 'down', t.get(SmsRouter).order[0]);
    const { tenant, victim } = await tenantApart(
      cluster,
      (n) => keySlot(redis.keyInSlot(`code:${n}`, 'rl')),
      (n) => [redis.key('rrl', n, 'u1'), redis.key('rl', n, 'u1')].map(keySlot),
      await cluster.masterOf(keySlot(flag)),
    );
    const who = { tenant, user: 'u1' };
    // A second tenant whose request-rate window is on that master, its recipient window elsewhere.
    const { tenant: other } = await tenantApart(
      cluster,
      (n) => keySlot(redis.key('rrl', n, 'u1')),
      (n) => [keySlot(redis.key('rl', n, 'u1'))],
      victim,
    );
    // A third whose recipient window is on that master: its sends cannot be counted but for codes.
    const { tenant: third } = await tenantApart(
      cluster,
      (n) => keySlot(redis.key('rl', n, 'u1')),
      (n) => [keySlot(redis.key('rrl', n, 'u1'))],
      victim,
    );
    const code = (phone: string, as = who) =>
      t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(as))
        .send({ phone_number: phone, purpose: '2fa' });
    await code('+12025550101').expect(202); // every connection made; Redis counts 1 of 2 for it
    await code('+12025550109', { tenant: third, user: 'u1' }).expect(202);
    await cluster.kill(victim);
    // The client sees the master's connection end at once, while the slot map still routes to it:
    // requests for its slots are refused (a code counted on the ledger) without waiting out the
    // bound, and the other masters' slots are not.
    await eventually(
      async () => (slotMasterGone(redis.client, redis.keyInSlot(`code:${tenant}`, 'rl')) ? true : undefined),
      5_000,
      'the dead master gone from the pool',
    );
    expect(slotMasterGone(redis.client, redis.key('rl', tenant, 'u1'))).toBe(false);
    // A slot map reload while the failover lasts puts the dead master back in the pool, not
    // connected: it is still gone (before, the next request for its slots tried it and waited out
    // the bound, about one a second).
    const cluster_ = redis.client as Cluster;
    const inPool = () => (cluster_.nodes('master').some((n) => n.options.port === victim) ? true : undefined);
    cluster_.refreshSlotsCache();
    await eventually(async () => inPool(), 5_000, 'the dead master back in the pool');
    expect(slotMasterGone(redis.client, redis.keyInSlot(`code:${tenant}`, 'rl'))).toBe(true);

    // The first code after the kill: the ledger counts, 2 of 2.
    const t0 = Date.now();
    const second = await code('+12025550101');
    expect(second.status).toBe(202);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(ledger.standingIn()).toBe(true);
    // The third to the number: refused as Redis would, from the ledger's count, without the wait.
    const t1 = Date.now();
    const third429 = await code('+12025550101');
    expect(Date.now() - t1).toBeLessThan(500);
    expect(third429.status).toBe(429);
    expect(third429.body.details[0]).toMatchObject({ rule: 'code_number_limit', limit: 2, used: 2 });
    // Concurrent codes to a fresh number: exactly the limit accepted (the range's lock, then the count).
    const racing = await Promise.all([1, 2, 3, 4].map(() => code('+12025550104')));
    expect(racing.map((r) => r.status).sort()).toEqual([202, 202, 429, 429]);
    // A tenant whose recipient window is on the dead master: its code is accepted, its notice is not.
    await code('+12025550110', { tenant: third, user: 'u1' }).expect(202);
    const t4 = Date.now();
    const notice = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: third, user: 'u1' }))
      .send({ phone_number: '+12025550111', message: 'Class moved to 3pm' });
    expect(notice.status).toBe(503);
    expect(Date.now() - t4).toBeLessThan(450); // not the 500 ms bound: the slot's master is gone
    expect(notice.headers['retry-after']).toBe('1'); // a slot in failover moves within seconds
    expect(notice.body.message).toContain('redis');
    // The request-rate limit fails open, at once (it guards against floods, not loss).
    const t2 = Date.now();
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: other, user: 'u1' }))
      .send({ phone_number: '+12025550103', message: 'Class moved to 3pm' })
      .expect(202);
    expect(Date.now() - t2).toBeLessThan(450);
    // Readiness: every master pinged, the dead one named, still 200 (degraded): the other masters
    // serve, and taking every api replica out of a balancer would stop them too. The providers'
    // down flags (one on the dead master) are read within the same bound.
    const t3 = Date.now();
    const ready = await t.http().get('/health/ready').expect(200);
    expect(Date.now() - t3).toBeLessThan(1500);
    expect(ready.body).toMatchObject({ status: 'degraded', redis: { down: [`127.0.0.1:${victim}`] } });
    expect(ready.body.details.providers).toBeDefined();
    // /metrics counts it, for an alert (readiness no longer says so with a 503).
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toContain('sms_redis_masters{state="down"} 1');
    expect(metrics).toContain('sms_redis_masters{state="up"} 2');
    const db = t.get(DataSource);
    const numbers = async (n: number) =>
      (
        (await db.query('SELECT phone_number FROM sms_messages WHERE tenant_id = $1 ORDER BY phone_number', [
          n,
        ])) as { phone_number: string }[]
      ).map((r) => r.phone_number);
    expect(await numbers(tenant)).toEqual(['+12025550101', '+12025550101', '+12025550104', '+12025550104']);
    expect(await numbers(third)).toEqual(['+12025550109', '+12025550110']);
    // The codes accepted on the ledger are sent: their jobs went to a shard whose master serves.
    await eventually(
      async () => {
        const [r] = await db.query(
          `SELECT count(*)::int AS n FROM sms_messages WHERE tenant_id = $1 AND status IN ('sent', 'delivered')`,
          [tenant],
        );
        return r.n === 4 ? true : undefined;
      },
      20_000,
      'the four codes sent',
    );
    await cluster.waitHealthy(30_000);
    // What the ledger counted reaches Redis: once the stand-in is over and the counts are replayed,
    // Redis refuses the number's third code itself, and counts a fresh one.
    await eventually(
      async () => (!ledger.standingIn() && ledger.waiting() === 0 ? true : undefined),
      20_000,
      'the ledger stands down, its counts in Redis',
    );
    // The racing number was counted on the ledger alone (its codes came while it stood in): Redis
    // knows its two codes only from the replay.
    const again = await code('+12025550104');
    expect(again.status).toBe(429);
    expect(again.body.details[0]).toMatchObject({ rule: 'code_number_limit', used: 2 });
    expect(ledger.standingIn()).toBe(false);
    // The first number's: the replay's count, and perhaps the given-up script's, landed after the
    // promotion (ioredis retries a command for seconds): Redis may count one more, never fewer.
    const first = await code('+12025550101');
    expect(first.status).toBe(429);
    expect(first.body.details[0].used).toBeGreaterThanOrEqual(2);
    await code('+12025550105').expect(202);
    // Once the replica serves the slots, readiness names nothing down.
    await eventually(
      async () => {
        const r = await t.http().get('/health/ready');
        return r.status === 200 && r.body.status === 'ok' ? true : undefined;
      },
      10_000,
      'readiness ok after the promotion',
    );
    expect((await t.http().get('/metrics').expect(200)).text).toContain('sms_redis_masters{state="down"} 0');
  }, 60_000);
});
