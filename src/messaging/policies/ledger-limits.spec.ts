import { RateLimitExceededError, ServiceUnavailableError } from '../../common/errors';
import type { AppConfig } from '../../config/app-config';
import type { RedisService } from '../../redis/redis.module';
import type { DestinationPolicy } from './destination-policy';
import { LedgerLimits, STAND_IN_MS } from './ledger-limits';
import type { RateLimiterService } from './rate-limiter.service';

/** When a code counts on the ledger instead of Redis: the stand-in's rule, without I/O. */
describe('LedgerLimits: when the ledger stands in for Redis', () => {
  const limits = (clustered: boolean, up = true) =>
    new LedgerLimits(
      { clustered, isUp: () => up } as unknown as RedisService,
      {} as DestinationPolicy,
      {} as RateLimiterService,
      { get: () => 500 } as unknown as AppConfig,
    );
  const slotDown = new ServiceUnavailableError('redis', 1);

  it('stands in for a Redis Cluster slot that did not answer, for STAND_IN_MS; then one code asks Redis while the others stay', () => {
    const l = limits(true);
    expect(l.countsHere()).toBe(false);
    const t0 = Date.now();
    expect(l.standsInFor(slotDown)).toBe(true);
    expect(l.countsHere(t0 + STAND_IN_MS - 100)).toBe(true);
    expect(l.countsHere(t0 + STAND_IN_MS + 100)).toBe(false); // this one asks Redis
    expect(l.countsHere(t0 + STAND_IN_MS + 200)).toBe(true); // the others wait for its answer
    expect(l.countsHere(t0 + STAND_IN_MS + 100 + 1001)).toBe(false); // no answer in 2 × the bound: another asks
    l.redisAnswered();
    expect(l.countsHere(t0 + STAND_IN_MS + 3000)).toBe(false);
    expect(l.standingIn()).toBe(false);
  });

  it("takes a 429 for Redis's answer: codes ask Redis again", () => {
    const l = limits(true);
    expect(l.standsInFor(slotDown)).toBe(true);
    expect(
      l.standsInFor(
        new RateLimitExceededError('over', { rule: 'recipient_rate_limit', retry_after_seconds: 1 }, {}),
      ),
    ).toBe(false);
    expect(l.countsHere()).toBe(false);
  });

  it('does not stand in for one Redis, a cluster whose client is down, or another failure', () => {
    expect(limits(false).standsInFor(slotDown)).toBe(false);
    expect(limits(true, false).standsInFor(slotDown)).toBe(false);
    expect(limits(true).standsInFor(new ServiceUnavailableError('database'))).toBe(false);
    expect(limits(true).standsInFor(new Error('boom'))).toBe(false);
  });
});
