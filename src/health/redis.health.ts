import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { Cluster } from 'ioredis';
import { within } from '../common/within';
import { RedisService } from '../redis/redis.module';

/** How long a PING may take before Redis (or a cluster's master) counts as down. */
const PING_TIMEOUT_MS = 800;

/**
 * Redis for readiness. One Redis: up when it answers a PING, else down (503: the accept path's
 * limits fail closed without it). A Redis Cluster: every master is pinged; up when all answer,
 * `down` naming the masters that do not (readiness says `degraded`, still 200) while any answers,
 * and down only when none does. A master that dies takes only its slots with it until its replica
 * is promoted: the requests that need those slots answer 503 with Retry-After on their own, the
 * others are served, and every api replica sees the same cluster, so a balancer that took them all
 * out would turn a failover of a third of the keys into an outage of all of them.
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
    if (!this.redis.clustered) {
      try {
        await this.ping(this.redis.client.ping());
        return session.up({ latency_ms: Date.now() - started });
      } catch (e) {
        return session.down({ message: e instanceof Error ? e.message : 'unreachable' });
      }
    }
    const cluster = this.redis.client as Cluster;
    const connected = new Map(cluster.nodes('master').map((n) => [`${n.options.host}:${n.options.port}`, n]));
    // The masters the slot map routes to: a master whose connection ended has left the client's
    // pool, but its slots still point at it until a replica is promoted.
    const routed = new Set<string>();
    for (const nodes of cluster.slots) if (nodes?.[0]) routed.add(nodes[0]);
    const masters = routed.size > 0 ? [...routed] : [...connected.keys()];
    const answered = await Promise.all(
      masters.map((k) => {
        const node = connected.get(k);
        return node
          ? this.ping(node.ping()).then(
              () => true,
              () => false,
            )
          : false;
      }),
    );
    const down = masters.filter((_, i) => !answered[i]);
    if (down.length === masters.length)
      return session.down({ message: masters.length === 0 ? 'no master known' : 'no master answers' });
    return session.up({ latency_ms: Date.now() - started, ...(down.length > 0 ? { down } : {}) });
  }

  private ping(p: Promise<unknown>): Promise<unknown> {
    return within(p, PING_TIMEOUT_MS, () => new Error('timeout'));
  }
}
