import { DataSource } from 'typeorm';
import { keySlot } from '../../src/redis/key-slot';
import { SmsRouter } from '../../src/providers';
import { RedisService } from '../../src/redis/redis.module';
import { closeClusterApp } from '../support/cluster-app';
import { cancelLeftoverMessages } from '../support/messages';
import { RedisClusterHandle, startRedisCluster, tenantApart } from '../support/redis-cluster';
import { createTestApp, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/**
 * A request during a Redis Cluster failover: the master of the code windows' slot is SIGKILLed and
 * its replica not yet promoted (cluster-node-timeout 5 s). ioredis retries such a command on the
 * refreshed slot map for seconds; the accept gives it REDIS_COMMAND_TIMEOUT_MS, as on one Redis,
 * and answers 503 with Retry-After having stored nothing, instead of hanging until the failover
 * (and perhaps committing after its client gave up, which then sends a second code).
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

  it('answers 503 with Retry-After within the command timeout, stores nothing, and sends once the slot has moved; the request-rate limit passes and readiness answers after the same wait', async () => {
    const redis = t.get(RedisService);
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
    const send = (phone: string) =>
      t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .send({ phone_number: phone, purpose: '2fa' });
    await send('+12025550101').expect(202); // every connection made
    await cluster.kill(victim);
    const t0 = Date.now();
    const refused = await send('+12025550102');
    const ms = Date.now() - t0;
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1'); // a slot in failover moves within seconds
    expect(refused.body.message).toContain('redis');
    // Without the bound: 16 retries 250 ms apart, or the whole failover (over 5 s here).
    expect(ms).toBeLessThan(1500);
    // The request-rate limit fails open, after the same bound (it guards against floods, not loss).
    const t1 = Date.now();
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: other, user: 'u1' }))
      .send({ phone_number: '+12025550103', message: 'Class moved to 3pm' })
      .expect(202);
    expect(Date.now() - t1).toBeLessThan(1500);
    // Readiness: every master pinged, the dead one named, still 200 (degraded): the other masters
    // serve, and taking every api replica out of a balancer would stop them too. The providers'
    // down flags (one on the dead master) are read within the same bound.
    const t2 = Date.now();
    const ready = await t.http().get('/health/ready').expect(200);
    expect(Date.now() - t2).toBeLessThan(1500);
    expect(ready.body).toMatchObject({ status: 'degraded', redis: { down: [`127.0.0.1:${victim}`] } });
    expect(ready.body.details.providers).toBeDefined();
    // /metrics counts it, for an alert (readiness no longer says so with a 503).
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toContain('sms_redis_masters{state="down"} 1');
    expect(metrics).toContain('sms_redis_masters{state="up"} 2');
    const db = t.get(DataSource);
    const rows = await db.query('SELECT phone_number FROM sms_messages WHERE tenant_id = $1', [tenant]);
    expect(rows.map((r: { phone_number: string }) => r.phone_number)).toEqual(['+12025550101']);
    await cluster.waitHealthy(30_000);
    // The client's retry after the failover: accepted (every retry answered 503 until then).
    let last = 0;
    for (const deadline = Date.now() + 20_000; last !== 202 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 250));
      const res = await send('+12025550102');
      last = res.status;
      if (last !== 202) expect(last).toBe(503);
    }
    expect(last).toBe(202);
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
