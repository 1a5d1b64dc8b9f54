import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ReplicaReads } from '../database/replica-reads';

/**
 * The read replica's part of readiness (only with DATABASE_READ_URL). Always `up`: reads fall back
 * to the primary, so a replica down or lagging never makes the service unready; it is named in
 * `down` instead, which makes readiness `degraded`. From the last check, made again first when it
 * is older than DATABASE_READ_CHECK_INTERVAL_MS.
 */
@Injectable()
export class ReplicaHealthIndicator {
  constructor(
    private readonly reads: ReplicaReads,
    private readonly indicator: HealthIndicatorService,
  ) {}

  get configured(): boolean {
    return this.reads.configured;
  }

  async check(key = 'read_replica'): Promise<HealthIndicatorResult> {
    // Within readiness' 800 ms: a slower check goes on, and this answer is the last one's.
    const s = await this.reads.fresh(800);
    return this.indicator.check(key).up({
      reads_on: s.status === 'replica' ? 'replica' : 'primary',
      replica: s.status,
      lag_ms: s.lagMs,
      lag_bytes: s.lagBytes,
      max_lag_ms: s.maxLagMs,
      ...(s.error === null ? {} : { error: s.error }),
      checked_at: s.checkedAt?.toISOString() ?? null,
      down: s.status === 'replica' ? [] : ['replica'],
    });
  }
}
