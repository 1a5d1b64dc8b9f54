import { ProviderName } from '../core/message-types';

/**
 * Adaptive routing, the decision alone: given what each provider's recent traffic to a country
 * looked like, how much of the first attempts each provider gets, and why. Pure: no I/O, no
 * clock, no randomness (the caller passes its draw). The counters behind the signals are
 * RoutingScores' (routing-scores.ts); the router applies the choice (SmsRouter.plan).
 *
 * Each signal maps to a degradation between 0 (fine) and 1 (fully degraded): 0 below half its
 * threshold, 1 at the threshold, linear in between. A provider's degradation is its worst
 * signal's, and its score is 1 − degradation. GOV.UK Notify's rule is a floor: 50 errors in the
 * call window (SMS_ROUTING_ERROR_COUNT), or 15 % of sends slow (SMS_ROUTING_SLOW_DELIVERY_PERCENT),
 * degrade fully whatever else is said. A signal with fewer than `minSamples` behind it judges
 * nothing (the caller has already widened it to the provider's figures over every country).
 */
export interface RoutingPolicy {
  /** Calls, matured sends or codes a signal needs before it judges. */
  minSamples: number;
  /** Call error rate (0..1) at which a provider is fully degraded. */
  errorRate: number;
  /** Errors within one call window that degrade fully whatever the rate (Notify: 50 in 60 s). */
  errorCount: number;
  /** Mean call latency (ms) at which a provider is fully degraded. */
  latencyMs: number;
  /** A send with no final receipt within this many seconds is slow (Notify: 300). */
  slowDeliverySeconds: number;
  /** Share (0..1) of matured sends that were slow at which a provider is fully degraded (Notify: 0.15). */
  slowDeliveryShare: number;
  /** How far (0..1) a code conversion rate may sit below the best provider's before full degradation. */
  conversionGap: number;
  /** Share (0..1) of first attempts a fully degraded provider keeps, so that its recovery is seen. */
  probeShare: number;
  /** The call window (for the reasons' wording). */
  callWindowSeconds: number;
  /** The delivery window (for the reasons' wording). */
  deliveryWindowSeconds: number;
}

/** One provider's recent traffic to one country (or to every country), as RoutingScores counts it. */
export interface ProviderSignals {
  provider: ProviderName;
  /** Calls that reached the provider over `callSpanSeconds`, and how many failed (retryable or timeout). */
  calls: number;
  errors: number;
  /** The span the call figures cover: the call window, or more of the past when traffic is thin. */
  callSpanSeconds: number;
  /** Errors within the last call window alone, for this destination and over all of them (Notify's count). */
  windowErrors: number;
  allWindowErrors: number;
  /** Mean wall time (ms) of calls that were answered; null when none. */
  latencyMs: number | null;
  /** Sends old enough to judge their delivery (older than the slow-delivery time, within the delivery window). */
  matured: number;
  /** Of those: with a final receipt (at any time), and with one within the slow-delivery time. */
  receipted: number;
  inTime: number;
  /** Of those: delivered, and the mean seconds from send to `delivered` (null when none). */
  delivered: number;
  deliveredSeconds: number | null;
  /** The provider has sent receipts for this destination lately: without that, delivery is not judged. */
  reportsReceipts: boolean;
  /** Code messages among the matured sends, converted ones, and the mean seconds to convert. */
  codes: number;
  converted: number;
  convertSeconds: number | null;
  /** Figures taken from the provider's traffic to every destination, this one's being too thin. */
  widened?: { calls?: boolean; delivery?: boolean; codes?: boolean };
}

export type RoutingSignal = 'errors' | 'latency' | 'slow_delivery' | 'conversion';

export interface ProviderAssessment {
  provider: ProviderName;
  /** 0 healthy … 1 fully degraded (the worst signal). */
  degradation: number;
  /** 1 − degradation, rounded to 3 places. */
  score: number;
  /** The worst signal, when any degrades; null when healthy. */
  signal: RoutingSignal | null;
  /** That signal in words, e.g. "errors 31 % over 60 s"; null when healthy. */
  reason: string | null;
}

export interface CountryRouting {
  /** Each configured provider's assessment, in the configured order. */
  providers: ProviderAssessment[];
  /** Share of first attempts per provider (sums to 1), in the configured order. */
  shares: { provider: ProviderName; share: number }[];
  /** The default first provider's share went down: traffic moves from it to `to`. */
  shift: { from: ProviderName; to: ProviderName; reason: string } | null;
}

/** How far a value sits into its ramp: 0 up to half the threshold, 1 at or above it. */
function ramp(value: number, threshold: number): number {
  if (!(threshold > 0)) return 0;
  const start = threshold / 2;
  if (value <= start) return 0;
  if (value >= threshold) return 1;
  return (value - start) / (threshold - start);
}

/** "31 %" */
export function pct(x: number): string {
  return `${Math.round(x * 100)} %`;
}

/** "60 s", "10 min", "2 h" */
export function span(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** "850 ms", "2.4 s" */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Conversion rate of a provider's matured codes, when there are enough of them. */
function conversionRate(s: ProviderSignals, policy: RoutingPolicy): number | null {
  return s.codes >= policy.minSamples ? s.converted / s.codes : null;
}

/**
 * One provider's degradation from its signals. `bestConversion` is the best conversion rate
 * among the providers for the same destination (conversion is judged against the others: how
 * often people enter a code says as much about them as about the provider).
 */
export function assessProvider(
  s: ProviderSignals,
  policy: RoutingPolicy,
  bestConversion: { provider: ProviderName; rate: number } | null = null,
): ProviderAssessment {
  const found: { signal: RoutingSignal; degradation: number; reason: string }[] = [];
  const all = ' over all destinations';
  const wide = (yes: boolean | undefined) => (yes ? all : '');
  if (s.windowErrors >= policy.errorCount || s.allWindowErrors >= policy.errorCount) {
    const own = s.windowErrors >= policy.errorCount;
    found.push({
      signal: 'errors',
      degradation: 1,
      reason: `${own ? s.windowErrors : s.allWindowErrors} errors in ${span(policy.callWindowSeconds)}${own ? '' : all}`,
    });
  }
  if (s.calls >= policy.minSamples) {
    const rate = s.errors / s.calls;
    found.push({
      signal: 'errors',
      degradation: ramp(rate, policy.errorRate),
      reason: `errors ${pct(rate)} over ${span(s.callSpanSeconds)}${wide(s.widened?.calls)}`,
    });
    if (s.latencyMs !== null && s.calls - s.errors >= policy.minSamples / 2) {
      found.push({
        signal: 'latency',
        degradation: ramp(s.latencyMs, policy.latencyMs),
        reason: `latency ${duration(s.latencyMs)} over ${span(s.callSpanSeconds)}${wide(s.widened?.calls)}`,
      });
    }
  }
  if (s.reportsReceipts && s.matured >= policy.minSamples) {
    const slow = Math.max(0, s.matured - s.inTime) / s.matured;
    found.push({
      signal: 'slow_delivery',
      degradation: slow >= policy.slowDeliveryShare ? 1 : ramp(slow, policy.slowDeliveryShare),
      reason: `slow-delivery ${pct(slow)} over ${span(policy.deliveryWindowSeconds)}${wide(s.widened?.delivery)}`,
    });
  }
  const rate = conversionRate(s, policy);
  if (rate !== null && bestConversion && bestConversion.provider !== s.provider && bestConversion.rate > 0) {
    const gap = Math.max(0, 1 - rate / bestConversion.rate);
    found.push({
      signal: 'conversion',
      degradation: ramp(gap, policy.conversionGap),
      reason: `code conversion ${pct(rate)} against ${bestConversion.provider}'s ${pct(bestConversion.rate)} over ${span(policy.deliveryWindowSeconds)}${wide(s.widened?.codes)}`,
    });
  }
  let worst: (typeof found)[number] | null = null;
  for (const f of found) if (f.degradation > 0 && (!worst || f.degradation > worst.degradation)) worst = f;
  const degradation = worst?.degradation ?? 0;
  return {
    provider: s.provider,
    degradation,
    score: Math.round((1 - degradation) * 1000) / 1000,
    signal: worst?.signal ?? null,
    reason: worst?.reason ?? null,
  };
}

/** Signals of a provider with no traffic: judges nothing. */
export function noSignals(provider: ProviderName): ProviderSignals {
  return {
    provider,
    calls: 0,
    errors: 0,
    callSpanSeconds: 0,
    windowErrors: 0,
    allWindowErrors: 0,
    latencyMs: null,
    matured: 0,
    receipted: 0,
    inTime: 0,
    delivered: 0,
    deliveredSeconds: null,
    reportsReceipts: false,
    codes: 0,
    converted: 0,
    convertSeconds: null,
  };
}

/**
 * Shares of first attempts for one destination. The default first provider (the configured
 * order's first) keeps every first attempt while it is no worse than the others. When it is
 * worse, the difference moves to the healthiest other provider: its share is
 * 1 − (1 − probeShare) × (its degradation − the other's), so a fully degraded provider facing a
 * healthy one keeps only the probe share, and as its signals recover its share climbs back. The
 * fallback order after the first pick does not change.
 */
export function routeCountry(
  order: readonly ProviderName[],
  signals: ReadonlyMap<ProviderName, ProviderSignals>,
  policy: RoutingPolicy,
): CountryRouting {
  const all = order.map((p) => signals.get(p) ?? noSignals(p));
  let best: { provider: ProviderName; rate: number } | null = null;
  for (const s of all) {
    const r = conversionRate(s, policy);
    if (r !== null && (!best || r > best.rate)) best = { provider: s.provider, rate: r };
  }
  // Conversion is only compared when at least two providers have enough codes.
  const comparable = all.filter((s) => conversionRate(s, policy) !== null).length >= 2;
  const providers = all.map((s) => assessProvider(s, policy, comparable ? best : null));
  const shares = order.map((provider, i) => ({ provider, share: i === 0 ? 1 : 0 }));
  if (order.length < 2) return { providers, shares, shift: null };
  const first = providers[0];
  let alternative: ProviderAssessment | null = null;
  for (const a of providers.slice(1))
    if (!alternative || a.degradation < alternative.degradation) alternative = a;
  const gap = alternative ? first.degradation - alternative.degradation : 0;
  if (!alternative || gap <= 0 || first.reason === null) return { providers, shares, shift: null };
  const moved = Math.min(1, gap) * (1 - policy.probeShare);
  shares[0].share = 1 - moved;
  const to = shares.find((x) => x.provider === alternative.provider);
  if (to) to.share = moved;
  return {
    providers,
    shares,
    shift: { from: first.provider, to: alternative.provider, reason: first.reason },
  };
}

/** Why a message went to its first provider, and the order its attempt follows. */
export interface FirstChoice {
  first: ProviderName;
  /** The first pick, then the rest in the configured order (the fallback order is unchanged). */
  order: ProviderName[];
  /** E.g. "routed to sns: twilio slow-delivery 22 % over 10 min". */
  note: string;
  /** What decided: the default order, an adaptive shift (moved or kept), or a pin. */
  kind: 'default' | 'moved' | 'kept' | 'pinned';
}

/** The configured order with `first` moved to the front. */
export function withFirst(order: readonly ProviderName[], first: ProviderName): ProviderName[] {
  return [first, ...order.filter((p) => p !== first)];
}

/** "routed to twilio: default order" for each provider, built once (the note of nearly every message). */
const DEFAULT_NOTES = new Map<ProviderName, string>();
export function defaultNote(provider: ProviderName, why = 'default order'): string {
  if (why !== 'default order') return `routed to ${provider}: ${why}`;
  let n = DEFAULT_NOTES.get(provider);
  if (!n) DEFAULT_NOTES.set(provider, (n = `routed to ${provider}: default order`));
  return n;
}

/**
 * The first provider of one message, drawn with the routing's shares: `draw` is uniform in [0, 1)
 * (the caller's Math.random, or a fixed value in tests).
 */
export function chooseFirst(
  order: readonly ProviderName[],
  routing: CountryRouting | null,
  draw: number,
): FirstChoice {
  const head = order[0];
  if (!routing?.shift) return { first: head, order: [...order], note: defaultNote(head), kind: 'default' };
  let acc = 0;
  let first = head;
  for (const s of routing.shares) {
    acc += s.share;
    if (draw < acc) {
      first = s.provider;
      break;
    }
  }
  const { from, to, reason } = routing.shift;
  if (first !== from) {
    return {
      first,
      order: withFirst(order, first),
      note: `routed to ${first}: ${from} ${reason}`,
      kind: 'moved',
    };
  }
  const share = routing.shares.find((s) => s.provider === from)?.share ?? 1;
  return {
    first,
    order: withFirst(order, first),
    note: `routed to ${first}: keeps ${pct(share)} of first attempts while ${from} ${reason} (the rest go to ${to})`,
    kind: 'kept',
  };
}

/** A tenant's routing setting (tenant settings `routing`). */
export interface TenantRouting {
  /** Every message of the tenant goes to this provider first. */
  pin?: ProviderName | null;
  /** Messages of these types go to their provider first (wins over `pin`). */
  pin_by_type?: Record<string, ProviderName> | null;
}

/** The pin that applies to a message of this type, and who set it; null when none. */
export function pinFor(
  routing: TenantRouting | null | undefined,
  messageType: string,
): { provider: ProviderName; by: 'type' | 'tenant' } | null {
  const types = routing?.pin_by_type;
  // Own keys only: a type named like an Object.prototype member ("constructor") is no pin.
  const byType = types && Object.hasOwn(types, messageType) ? types[messageType] : undefined;
  if (byType) return { provider: byType, by: 'type' };
  if (routing?.pin) return { provider: routing.pin, by: 'tenant' };
  return null;
}
