import { loadConfig } from '../../../src/config/app-config';
import { RateLimiterService } from '../../../src/messaging/policies/rate-limiter.service';
import { RedisService } from '../../../src/redis/redis.module';

/** Blocks this event loop (a busy process, or a host whose CPU others hold). */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/**
 * A request's Redis command while its process is busy: Redis answers within a millisecond, but
 * the event loop cannot read the answer until the busy stretch ends. That is not Redis being slow:
 * the command must not be given up on (a 503 to the request) for it. It was, after
 * REDIS_COMMAND_TIMEOUT_MS, by ioredis's own command timer and by `within`, both of which fired
 * before the socket was read (a code refused at a topology run's start).
 */
describe("a request's Redis command in a busy process", () => {
  const config = loadConfig({ ...process.env, REDIS_COMMAND_TIMEOUT_MS: '200' });
  const redis = new RedisService(config);
  const limiter = new RateLimiterService(redis);
  afterAll(() => redis.onApplicationShutdown());

  it('is answered, from whichever phase of the event loop the command is sent', async () => {
    await redis.client.ping();
    const phases: Record<string, (run: () => void) => void> = {
      immediate: (run) => setImmediate(run),
      timer: (run) => setTimeout(run, 0),
      io: (run) => void redis.client.ping().then(run),
    };
    const outcomes: Record<string, string> = {};
    for (const [phase, at] of Object.entries(phases)) {
      const taken = new Promise<Promise<string>>((resolve) =>
        at(() => {
          const p = limiter.consume(1, `busy-${phase}-${Date.now()}`, 1, 100, new Date());
          // Busy once the command is on the wire (ioredis writes it on the next tick), as when
          // the next request's work takes the loop: three times the command timeout.
          setImmediate(() => busy(600));
          resolve(
            p.then(
              () => 'taken',
              (e: Error) => e.message,
            ),
          );
        }),
      );
      outcomes[phase] = await await taken;
    }
    expect(outcomes).toEqual({ immediate: 'taken', timer: 'taken', io: 'taken' });
  });

  it('is still given up on, within the timeout, when Redis does not answer while the process is free', async () => {
    // A Lua busy loop holds Redis (its other clients wait) for longer than the bound.
    const blocker = new RedisService(config);
    const hold = blocker.client
      .eval(
        `local t = redis.call('TIME'); while true do local n = redis.call('TIME'); if (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 700000 then break end end return 1`,
        0,
      )
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const outcome = await limiter.consume(1, `held-${Date.now()}`, 1, 100, new Date()).then(
      () => 'taken',
      (e: Error) => e.message,
    );
    const took = Date.now() - started;
    await hold;
    await blocker.onApplicationShutdown();
    expect(outcome).toContain('redis is unavailable');
    expect(took).toBeGreaterThanOrEqual(190);
    // ~200 ms; under 640 whatever the load: before Redis would have answered (its hold ends ~650 ms in).
    expect(took).toBeLessThan(640);
  });
});
