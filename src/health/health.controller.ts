import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth/decorators';
import { degradedParts, ReadinessContributor } from './readiness';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly contributors: ReadinessContributor,
  ) {}

  /** Liveness: the process answers. */
  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: PostgreSQL and Redis answer (else 503); details include provider circuits. With a
   * provider down the answer stays 200 but says `degraded` and names it: `providers.down`.
   */
  @Get('ready')
  @HealthCheck()
  async ready() {
    const result = await this.health.check([
      () => this.db.pingCheck('database', { timeout: 1500 }),
      () => this.redis.check('redis'),
      ...this.contributors.checks(),
    ]);
    const degraded = degradedParts(result);
    if (Object.keys(degraded).length === 0) return result;
    return { ...result, status: 'degraded' as const, ...degraded };
  }
}
