import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiNoDependencies } from '../common/api-errors';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth/decorators';
import { AppError, DEPENDENCY_RETRY_AFTER_SECONDS } from '../common/errors';
import { degradedParts, ReadinessContributor } from './readiness';
import { RedisHealthIndicator } from './redis.health';
import { ReplicaHealthIndicator } from './replica.health';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly replica: ReplicaHealthIndicator,
    private readonly contributors: ReadinessContributor,
  ) {}

  /** Liveness: the process answers. */
  @Get()
  @ApiOperation({
    summary: 'Liveness',
    description:
      '200 while the process serves HTTP. Touches no dependency; use /health/ready for load balancers.',
  })
  @ApiNoDependencies()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: PostgreSQL and Redis answer (each given 800 ms, so a hung one is reported within
   * ~1 s; else 503 naming it); details include provider circuits and (DATABASE_READ_URL) the read
   * replica. With a provider, the replica or some masters of a Redis Cluster down the answer stays
   * 200 but says `degraded` and names it: `providers.down`, `read_replica.down`, `redis.down`.
   */
  @Get('ready')
  @ApiOperation({
    summary: 'Readiness',
    description:
      '200 when PostgreSQL and Redis answer (each within 800 ms); with a provider down, the read replica down or lagging (reads then go to the primary), or some masters of a Redis Cluster down (`redis.down`), it stays 200 but says `degraded` and names it. 503 naming the failing dependency otherwise (on a cluster: no master answers).',
  })
  @HealthCheck()
  async ready() {
    let result;
    try {
      result = await this.health.check([
        () => this.db.pingCheck('database', { timeout: 800 }),
        () => this.redis.check('redis'),
        ...(this.replica.configured ? [() => this.replica.check('read_replica')] : []),
        ...this.contributors.checks(),
      ]);
    } catch (e) {
      throw notReady(e);
    }
    const degraded = degradedParts(result);
    if (Object.keys(degraded).length === 0) return result;
    return { ...result, status: 'degraded' as const, ...degraded };
  }
}

/**
 * Terminus' 503 in the shared error body: the message names what is down (`database`, `redis`,
 * ...), `details` keeps terminus' own `{status, info, error, details}` (a probe's report, as its
 * 200 is, not the API's list of entries), and Retry-After is set.
 */
class NotReadyError extends AppError {
  constructor(private readonly report: { error?: Record<string, unknown> }) {
    const down = Object.keys(report.error ?? {});
    super(
      'service_unavailable',
      down.length ? `not ready: ${down.join(', ')} unavailable` : 'not ready',
      undefined,
      {
        'Retry-After': String(DEPENDENCY_RETRY_AFTER_SECONDS),
      },
    );
  }

  override answeredDetails(): unknown {
    return this.report;
  }
}

function notReady(e: unknown): unknown {
  if (!(e instanceof ServiceUnavailableException)) return e;
  return new NotReadyError(e.getResponse() as { error?: Record<string, unknown> });
}
