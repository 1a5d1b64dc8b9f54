import type { Redis } from 'ioredis';
import { LuaScript } from '../../redis/lua-script';

/**
 * Reserves the next hand-over time of a tenant's campaign traffic, one every 1000/mps ms, in Redis
 * time (one schedule for every worker process). Answers how long to wait; the reservation is made
 * at once, so concurrent callers get distinct, evenly spaced times. A reservation that is not used
 * (a stopping worker) only leaves a gap.
 */
const RESERVE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, nextAt)
redis.call('SET', KEYS[1], tostring(at + interval), 'PX', math.floor(at - now + interval + 60000))
return {at - now, at}
`);

export class CampaignPacer {
  /** Milliseconds between two hand-overs of one tenant. */
  readonly intervalMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keyOf: (tenantId: number) => string,
    mps: number,
  ) {
    this.intervalMs = 1000 / mps;
  }

  /** Milliseconds to wait before this hand-over (0: now). */
  async reserve(tenantId: number): Promise<number> {
    return (await this.reservation(tenantId)).waitMs;
  }

  /** The reserved time (Redis clock, ms, truncated) and how long until it. */
  async reservation(tenantId: number): Promise<{ waitMs: number; atMs: number }> {
    const [wait, at] = (await RESERVE.run(this.redis, [this.keyOf(tenantId)], [String(this.intervalMs)])) as [
      number,
      number,
    ];
    return { waitMs: Number(wait), atMs: Number(at) };
  }
}
