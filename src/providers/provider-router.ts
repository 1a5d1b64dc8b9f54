import { ProviderName } from '../core/message-types';
import { CircuitBreaker, CircuitBreakerOptions } from './circuit-breaker';
import {
  AllProvidersFailedError,
  OutboundSms,
  ProviderAttempt,
  ProviderError,
  ProviderSendResult,
  SmsProvider,
} from './sms-provider';

export interface RouteOutcome {
  result: ProviderSendResult;
  tried: { provider: ProviderName; code?: string }[];
}

/**
 * Tries providers in order. A retryable failure falls through to the next provider within the
 * same attempt (automatic fallback); a permanent failure or a timeout stops at once.
 */
export class ProviderRouter {
  private readonly breakers = new Map<ProviderName, CircuitBreaker>();

  constructor(
    private readonly providers: SmsProvider[],
    breaker: CircuitBreakerOptions,
  ) {
    for (const p of providers) this.breakers.set(p.name, new CircuitBreaker(breaker));
  }

  async send(sms: OutboundSms): Promise<RouteOutcome> {
    const attempts: ProviderAttempt[] = [];
    const tried: RouteOutcome['tried'] = [];
    for (const provider of this.providers) {
      const breaker = this.breakers.get(provider.name) as CircuitBreaker;
      if (!breaker.canRequest()) {
        attempts.push({
          provider: provider.name,
          code: `${provider.name}:circuit_open`,
          message: 'circuit open',
        });
        tried.push({ provider: provider.name, code: `${provider.name}:circuit_open` });
        continue;
      }
      try {
        const result = await provider.send(sms);
        breaker.recordSuccess();
        tried.push({ provider: provider.name });
        return { result, tried };
      } catch (e) {
        const err =
          e instanceof ProviderError
            ? e
            : new ProviderError(
                provider.name,
                'retryable',
                `${provider.name}:unexpected`,
                e instanceof Error ? e.message : String(e),
              );
        tried.push({ provider: provider.name, code: err.code });
        if (err.kind === 'permanent') throw err;
        breaker.recordFailure();
        if (err.kind === 'timeout') throw err;
        attempts.push({ provider: provider.name, code: err.code, message: err.message });
      }
    }
    throw new AllProvidersFailedError(attempts);
  }

  health(): Record<string, ReturnType<CircuitBreaker['snapshot']>> {
    return Object.fromEntries([...this.breakers].map(([name, b]) => [name, b.snapshot()]));
  }
}
