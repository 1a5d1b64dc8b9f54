import { loadConfig } from '../config/app-config';
import { shardOf, shardPrefix } from '../messaging/delivery/delivery-queue';
import { assertOneSlot, CLUSTER_SLOTS, hashTagOf, keySlot } from './key-slot';
import { bullPrefix, redisKeyInSlot } from './redis.module';

/** Bull's keys of one queue, as Bull names them: `<prefix>:<queue>:<suffix>` (a job: its id). */
const bullKeys = (prefix: string, queue: string) =>
  [
    'wait',
    'active',
    'delayed',
    'priority',
    'paused',
    'meta-paused',
    'id',
    'stalled',
    'stalled-check',
    'limiter',
    'some-job-id',
  ].map((k) => `${prefix}:${queue}:${k}`);

describe('Redis Cluster key slots', () => {
  it('matches the slots Redis computes (CLUSTER KEYSLOT)', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('123456789')).toBe(12739);
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(hashTagOf('foo{}{bar}')).toBe('foo{}{bar}');
    expect(hashTagOf('foo{{bar}}zap')).toBe('{bar');
    expect(() => assertOneSlot(['a', 'b'])).toThrow(/2 Redis Cluster slots/);
  });

  it("keeps each queue's keys (Bull's scripts take several) in one slot", () => {
    const config = loadConfig({ REDIS_PREFIX: 'sms', REDIS_CLUSTER_NODES: '127.0.0.1:7100' });
    assertOneSlot(bullKeys(bullPrefix(config), 'sms-jobs'));
    for (let n = 0; n < config.queueShards(); n++)
      for (const q of ['sms-delivery', 'sms-delivery-codes', 'sms-delivery-campaigns'])
        assertOneSlot(bullKeys(shardPrefix(config, n), `${q}.${n}`));
  });

  it('spreads the delivery shards over the masters of a 3-master cluster', () => {
    const config = loadConfig({ REDIS_PREFIX: 'sms', REDIS_CLUSTER_NODES: '127.0.0.1:7100' });
    const shards = config.queueShards();
    expect(shards).toBe(6);
    // redis-cli --cluster create gives 3 masters equal slot ranges.
    const master = (slot: number) => Math.floor((slot * 3) / CLUSTER_SLOTS);
    const masters = new Set([...Array(shards).keys()].map((n) => master(keySlot(shardPrefix(config, n)))));
    expect(masters.size).toBe(3);
  });

  it("puts a tenant's verification code windows (one script) in one slot on a cluster", () => {
    const keys = [
      redisKeyInSlot('sms', true, 'code:42', ['rl', 'code', 42, '+447700900001']),
      redisKeyInSlot('sms', true, 'code:42', ['rl', 'code', 42, '+447700900002']),
      redisKeyInSlot('sms', true, 'code:42', ['pump', 42, '+4477009']),
    ];
    assertOneSlot(keys);
    // A single Redis keeps the key names of before.
    expect(redisKeyInSlot('sms', false, 'code:42', ['rl', 'code', 42, '+1'])).toBe('sms:rl:code:42:+1');
  });
});

describe('delivery shards', () => {
  it('is shard 0 for everything with one shard', () => {
    expect(shardOf(1, 'code', 7, 'x')).toBe(0);
    expect(shardOf(1, 'promotional', undefined, 'y')).toBe(0);
  });

  it("keeps a tenant's lane in one shard and spreads tenants over every shard", () => {
    expect(shardOf(6, 'transactional', 7, 'a')).toBe(shardOf(6, 'transactional', 7, 'b'));
    const used = new Set([...Array(60).keys()].map((t) => shardOf(6, 'transactional', t + 1, '')));
    expect(used.size).toBe(6);
  });

  it('keeps the single-Redis defaults: one shard, the keys of before', () => {
    const config = loadConfig({ REDIS_PREFIX: 'sms' });
    expect(config.queueShards()).toBe(1);
    expect(shardPrefix(config, 0)).toBe('{sms}');
  });
});
