import { ProviderName } from '../core/message-types';

/** One provider call as the instrumenting wrapper saw it. */
export interface ProviderCall {
  provider: ProviderName;
  /** Wall time of the call in milliseconds. */
  ms: number;
  /** `ok`, or the failure kind the provider classified. */
  outcome: 'ok' | 'retryable' | 'permanent' | 'timeout';
  /** The provider's error code (e.g. `twilio:21211`) when it failed. */
  code?: string;
}

/** A circuit that opened (`open: true`) or closed again. */
export interface CircuitChange {
  provider: ProviderName;
  open: boolean;
  at: Date;
}

export interface ProviderObserver {
  call?(c: ProviderCall): void;
  circuit?(c: CircuitChange): void;
}

/** What /health/providers shows of one provider, besides its circuit. */
export interface ProviderActivity {
  lastSuccessAt: string | null;
  lastError: { code: string; at: string } | null;
  /** Calls in the recent window and the share that failed (null when none). */
  recent: { windowSeconds: number; calls: number; errors: number; errorRate: number | null };
}

/**
 * Per-provider call outcomes of this process: the last success, the last error and the calls of
 * the recent window (kept as one counter pair per second, so memory stays bounded). Pure.
 */
export class ProviderStats {
  private readonly perProvider = new Map<
    ProviderName,
    {
      lastSuccess: number | null;
      lastError: { code: string; at: number } | null;
      buckets: Map<number, [number, number]>;
    }
  >();

  constructor(
    private readonly now: () => number,
    readonly windowSeconds = 300,
  ) {}

  record(c: ProviderCall): void {
    const at = this.now();
    const p = this.entry(c.provider);
    if (c.outcome === 'ok' || c.outcome === 'permanent') p.lastSuccess = at; // it answered
    if (c.outcome !== 'ok') p.lastError = { code: c.code ?? `${c.provider}:${c.outcome}`, at };
    const second = Math.floor(at / 1000);
    const b = p.buckets.get(second) ?? [0, 0];
    b[0] += 1;
    if (c.outcome !== 'ok') b[1] += 1;
    p.buckets.set(second, b);
    this.prune(p.buckets, second);
  }

  activity(provider: ProviderName): ProviderActivity {
    const p = this.entry(provider);
    const second = Math.floor(this.now() / 1000);
    this.prune(p.buckets, second);
    let calls = 0;
    let errors = 0;
    for (const [c, e] of p.buckets.values()) {
      calls += c;
      errors += e;
    }
    return {
      lastSuccessAt: p.lastSuccess === null ? null : new Date(p.lastSuccess).toISOString(),
      lastError: p.lastError ? { code: p.lastError.code, at: new Date(p.lastError.at).toISOString() } : null,
      recent: {
        windowSeconds: this.windowSeconds,
        calls,
        errors,
        errorRate: calls === 0 ? null : errors / calls,
      },
    };
  }

  private entry(provider: ProviderName) {
    let p = this.perProvider.get(provider);
    if (!p) {
      p = { lastSuccess: null, lastError: null, buckets: new Map() };
      this.perProvider.set(provider, p);
    }
    return p;
  }

  private prune(buckets: Map<number, [number, number]>, second: number): void {
    for (const s of buckets.keys()) if (s <= second - this.windowSeconds) buckets.delete(s);
  }
}
