import { ProviderName } from '../core/message-types';
import { CircuitBreaker, CircuitBreakerOptions } from './circuit-breaker';
import {
  AllProvidersFailedError,
  CircuitsOpenError,
  OutboundSms,
  ProviderAttempt,
  ProviderError,
  ProviderNotCalledError,
  ProviderSendResult,
  SmsProvider,
} from './sms-provider';

export interface RouteOutcome {
  result: ProviderSendResult;
  tried: { provider: ProviderName; code?: string }[];
}

export interface SendHooks {
  /**
   * Called before each provider call, with that provider; the call waits for what it returns.
   * When it throws or rejects, that provider is not called and the send ends with
   * ProviderNotCalledError (a half-open trial taken for the call is given back). Returning
   * undefined (nothing to wait for) adds nothing to the call.
   */
  beforeCall?: (provider: ProviderName) => void | Promise<void>;
}

/** How one send is routed (SmsRouter.plan): the order to try, and who hears of each call. */
export interface SendRoute {
  /** The providers in the order to try (configured ones only); absent: the configured order. */
  order?: readonly ProviderName[];
  /**
   * Told after each provider call how it ended and how long it took (ms), for the routing
   * scores. It must not throw (what it throws is ignored).
   */
  onCall?: (
    provider: ProviderName,
    outcome: 'ok' | 'retryable' | 'permanent' | 'timeout',
    ms: number,
  ) => void;
}

/**
 * Tries providers in order: the configured one, or the send's own (`SendRoute.order`, which
 * SmsRouter.plan draws per message: a pin or adaptive routing puts another provider first). A
 * retryable failure falls through to the next provider within the same attempt (automatic
 * fallback); a permanent failure or a timeout stops at once. `SendRoute.onCall` hears how each
 * call ended and how long it took (the routing scores).
 *
 * Outages: a provider whose circuit is open is skipped. When every circuit is open nothing is
 * tried and `CircuitsOpenError` says when the next half-open trial is due (the caller waits for it
 * without spending an attempt); when some were tried and failed, `AllProvidersFailedError` carries
 * the last real answer. Either way the error kept is a provider's own, never "circuit open".
 *
 * `beforeCall` lets the caller make each call durable first (the worker records on the message
 * which providers its attempt was handed to, so that a crash can be resolved by asking them).
 */
export class ProviderRouter {
  private readonly breakers = new Map<ProviderName, CircuitBreaker>();
  /** The last real error of each provider, with when it happened (for CircuitsOpenError). */
  private readonly lastErrors = new Map<ProviderName, { attempt: ProviderAttempt; at: number }>();

  constructor(
    private readonly providers: SmsProvider[],
    private readonly breaker: CircuitBreakerOptions,
    /** Told when a provider's circuit opens or closes again (alerts, metrics). */
    onCircuitChange?: (provider: ProviderName, open: boolean) => void,
  ) {
    for (const p of providers)
      this.breakers.set(p.name, new CircuitBreaker(breaker, (open) => onCircuitChange?.(p.name, open)));
  }

  async send(sms: OutboundSms, hooks: SendHooks = {}, route: SendRoute = {}): Promise<RouteOutcome> {
    const attempts: ProviderAttempt[] = [];
    const tried: RouteOutcome['tried'] = [];
    const skipped: CircuitBreaker[] = [];
    const heard = (provider: ProviderName, outcome: 'ok' | ProviderError['kind'], started: number) => {
      try {
        route.onCall?.(provider, outcome, this.breaker.now() - started);
      } catch {
        // the scores must never change a send
      }
    };
    for (const provider of route.order ? this.inOrder(route.order) : this.providers) {
      const breaker = this.breakers.get(provider.name) as CircuitBreaker;
      const trial = breaker.state() === 'half_open';
      if (!breaker.canRequest()) {
        skipped.push(breaker);
        tried.push({ provider: provider.name, code: `${provider.name}:circuit_open` });
        continue;
      }
      if (hooks.beforeCall) {
        try {
          const ready = hooks.beforeCall(provider.name);
          if (ready) await ready;
        } catch (e) {
          if (trial) breaker.releaseTrial();
          throw new ProviderNotCalledError(provider.name, [...attempts], e);
        }
      }
      const started = this.breaker.now();
      try {
        const result = await provider.send(sms);
        breaker.recordSuccess();
        heard(provider.name, 'ok', started);
        tried.push({ provider: provider.name });
        return { result, tried };
      } catch (e) {
        const err = e instanceof ProviderError ? e : provider.classifyError(e);
        heard(provider.name, err.kind, started);
        tried.push({ provider: provider.name, code: err.code });
        if (err.kind === 'permanent') {
          // The provider answered: it is up. Counting this as a success also ends a half-open trial.
          breaker.recordSuccess();
          throw err;
        }
        breaker.recordFailure();
        const attempt = { provider: provider.name, code: err.code, message: err.message };
        this.lastErrors.set(provider.name, { attempt, at: this.breaker.now() });
        if (err.kind === 'timeout') throw err;
        attempts.push(attempt);
      }
    }
    if (attempts.length === 0 && skipped.length > 0) {
      const retryAt = Math.min(...skipped.map((b) => b.nextTrialAt()));
      throw new CircuitsOpenError(retryAt, this.lastError());
    }
    throw new AllProvidersFailedError(attempts);
  }

  /**
   * The provider a send starting now would call first: the first whose circuit lets a request
   * through; null when none does. A peek: it takes no half-open trial and changes nothing.
   */
  firstUp(order?: readonly ProviderName[]): ProviderName | null {
    const providers = order ? this.inOrder(order) : this.providers;
    return providers.find((p) => this.breakers.get(p.name)?.wouldAllow())?.name ?? null;
  }

  /** Whether a send starting now would call this provider if it came first (a peek, as `firstUp`). */
  allows(provider: ProviderName): boolean {
    return this.breakers.get(provider)?.wouldAllow() ?? false;
  }

  /** The configured providers in this order (names not configured are left out). */
  private inOrder(order: readonly ProviderName[]): SmsProvider[] {
    const out: SmsProvider[] = [];
    for (const name of order) {
      const p = this.providers.find((x) => x.name === name);
      if (p) out.push(p);
    }
    return out;
  }

  /** The most recent real error of any provider. */
  private lastError(): ProviderAttempt | null {
    let last: { attempt: ProviderAttempt; at: number } | null = null;
    for (const e of this.lastErrors.values()) if (!last || e.at >= last.at) last = e;
    return last?.attempt ?? null;
  }

  health(): Record<string, ReturnType<CircuitBreaker['snapshot']>> {
    return Object.fromEntries([...this.breakers].map(([name, b]) => [name, b.snapshot()]));
  }

  /** Providers not proven up since they failed: circuit open, or half-open awaiting its trial. */
  down(): ProviderName[] {
    return [...this.breakers].filter(([, b]) => b.state() !== 'closed').map(([name]) => name);
  }
}
