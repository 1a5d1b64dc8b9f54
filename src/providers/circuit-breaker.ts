export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now: () => number;
}

/** Opens after N consecutive failures; after the cool-down lets one trial through (half-open). Pure. */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private trialInFlight = false;

  constructor(
    private readonly opts: CircuitBreakerOptions,
    /** Told when the circuit opens (true) or closes again (false); for alerts and metrics. */
    private readonly onChange?: (open: boolean) => void,
  ) {}

  state(): CircuitState {
    if (this.openedAt === null) return 'closed';
    return this.opts.now() - this.openedAt >= this.opts.cooldownMs ? 'half_open' : 'open';
  }

  /**
   * Whether `canRequest` would let a request through now, without taking the half-open trial
   * (a peek: nothing changes).
   */
  wouldAllow(): boolean {
    const s = this.state();
    return s === 'closed' || (s === 'half_open' && !this.trialInFlight);
  }

  canRequest(): boolean {
    const s = this.state();
    if (s === 'closed') return true;
    if (s === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /**
   * When a request may next be let through: now when closed or half-open and free; the end of the
   * cool-down when open; shortly (at most a second) when another call holds the half-open trial.
   */
  nextTrialAt(): number {
    const now = this.opts.now();
    const s = this.state();
    if (s === 'closed') return now;
    if (s === 'open') return (this.openedAt as number) + this.opts.cooldownMs;
    return this.trialInFlight ? now + Math.min(this.opts.cooldownMs, 1000) : now;
  }

  /** Gives back a half-open trial taken by `canRequest` for a request that was then not made. */
  releaseTrial(): void {
    this.trialInFlight = false;
  }

  recordSuccess(): void {
    const wasOpen = this.openedAt !== null;
    this.failures = 0;
    this.openedAt = null;
    this.trialInFlight = false;
    if (wasOpen) this.onChange?.(false);
  }

  recordFailure(): void {
    const wasOpen = this.openedAt !== null;
    this.failures += 1;
    if (this.trialInFlight || this.failures >= this.opts.failureThreshold) this.openedAt = this.opts.now();
    this.trialInFlight = false;
    if (!wasOpen && this.openedAt !== null) this.onChange?.(true);
  }

  snapshot(): { state: CircuitState; consecutiveFailures: number; openedAt: string | null } {
    return {
      state: this.state(),
      consecutiveFailures: this.failures,
      openedAt: this.openedAt === null ? null : new Date(this.openedAt).toISOString(),
    };
  }
}
