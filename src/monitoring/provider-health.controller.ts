import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators';
import { ProviderSignals, RoutingSnapshot, SmsRouter } from '../providers';
import { ProvidersHealthDto, RoutingHealthDto, RoutingProviderDto } from './provider-health.dto';

@ApiTags('health')
@Public()
@Controller('health/providers')
export class ProviderHealthController {
  constructor(private readonly router: SmsRouter) {}

  @Get()
  @ApiOperation({
    summary: 'Each provider: circuit, last success, last error and recent error rate; adaptive routing',
    description:
      "Per process (each replica keeps its own circuits): `circuit.state` closed | half_open | open; `last_success_at` and `last_error` of this process's calls; `recent` counts the calls of the last 5 minutes and the share that failed (null when none). `routing` is cluster-wide (the shared scores as this process last read them): per destination country, each provider's share of first attempts, its score and the signals behind it.",
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
      routing: toRoutingHealth(this.router.routing()),
    };
  }
}

const ratio = (n: number, of: number): number | null => (of > 0 ? Math.round((n / of) * 1000) / 1000 : null);
const round = (x: number | null, places = 1): number | null =>
  x === null ? null : Math.round(x * 10 ** places) / 10 ** places;

export function toRoutingHealth(r: RoutingSnapshot): RoutingHealthDto {
  return {
    adaptive: r.adaptive,
    available: r.available,
    refreshed_at: r.refreshedAt,
    call_window_seconds: r.callWindowSeconds,
    delivery_window_seconds: r.deliveryWindowSeconds,
    destinations: r.destinations.map((d) => ({
      country: d.country,
      providers: d.routing.providers.map((a, i) => {
        const s = d.signals.find((x) => x.provider === a.provider) as ProviderSignals;
        return {
          provider: a.provider,
          share: Math.round((d.routing.shares[i]?.share ?? 0) * 1000) / 1000,
          score: a.score,
          reason: a.reason,
          ...signalsDto(s),
        };
      }),
    })),
  };
}

function signalsDto(s: ProviderSignals): Omit<RoutingProviderDto, 'provider' | 'share' | 'score' | 'reason'> {
  return {
    calls: s.calls,
    error_rate: ratio(s.errors, s.calls),
    latency_ms: round(s.latencyMs, 0),
    call_span_seconds: s.callSpanSeconds,
    matured_sends: s.matured,
    receipt_share: s.reportsReceipts ? ratio(s.receipted, s.matured) : null,
    slow_delivery_share: s.reportsReceipts ? ratio(s.matured - s.inTime, s.matured) : null,
    delivered_seconds: round(s.deliveredSeconds),
    reports_receipts: s.reportsReceipts,
    codes: s.codes,
    conversion_rate: ratio(s.converted, s.codes),
    convert_seconds: round(s.convertSeconds),
    widened: Object.entries(s.widened ?? {})
      .filter(([, yes]) => yes)
      .map(([k]) => k),
  };
}
