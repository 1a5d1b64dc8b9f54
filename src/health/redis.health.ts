import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { REDIS_PING_TIMEOUT_MS, RedisService } from '../redis/redis.module';

/**
 * Redis for readiness. One Redis: up when it answers a PING, else down (503: the accept path's
 * limits fail closed without it). A Redis Cluster: every master is pinged; up when all answer,
 * `down` naming the masters that do not (readiness says `degraded`, still 200) while any answers,
 * and down only when none does. A master that dies takes only its slots with it until its replica
 * is promoted: the requests that need those slots answer 503 with Retry-After on their own, the
 * others are served, and every api replica sees the same cluster, so a balancer that took them all
 * out would turn a failover of a third of the keys into an outage of all of them. A master that
 * stays down (no replica to promote) shows in /metrics: `sms_redis_masters{state="down"}`.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly redis: RedisService,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const session = this.indicator.check(key);
    const started = Date.now();
    const { up, down } = await this.redis.masters(REDIS_PING_TIMEOUT_MS);
    if (up.length === 0)
      return session.down({
        message: !this.redis.clustered
          ? `no answer within ${REDIS_PING_TIMEOUT_MS} ms`
          : down.length === 0
            ? 'no master known'
            : 'no master answers',
      });
    return session.up({
      latency_ms: Date.now() - started,
      ...(this.redis.clustered && down.length > 0 ? { down } : {}),
    });
  }
}
