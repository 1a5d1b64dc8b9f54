import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators';
import { SmsRouter } from '../providers';
import { ProvidersHealthDto } from './provider-health.dto';

@ApiTags('health')
@Public()
@Controller('health/providers')
export class ProviderHealthController {
  constructor(private readonly router: SmsRouter) {}

  @Get()
  @ApiOperation({
    summary: 'Each provider: circuit, last success, last error and recent error rate',
    description:
      "Per process (each replica keeps its own circuits): `circuit.state` closed | half_open | open; `last_success_at` and `last_error` of this process's calls; `recent` counts the calls of the last 5 minutes and the share that failed (null when none).",
  })
  @ApiOkResponse({ type: ProvidersHealthDto })
  providers(): ProvidersHealthDto {
    return {
      providers: this.router.providerHealth().map((p) => ({
        provider: p.provider,
        circuit: {
          state: p.circuit.state,
          consecutive_failures: p.circuit.consecutiveFailures,
          opened_at: p.circuit.openedAt,
        },
        last_success_at: p.activity.lastSuccessAt,
        last_error: p.activity.lastError,
        recent: {
          window_seconds: p.activity.recent.windowSeconds,
          calls: p.activity.recent.calls,
          errors: p.activity.recent.errors,
          error_rate: p.activity.recent.errorRate,
        },
      })),
    };
  }
}
