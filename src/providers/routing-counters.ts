import { ProviderName } from '../core/message-types';
import { noSignals, ProviderSignals } from './routing-policy';

/**
 * The shape of the shared routing counters and how they add up into signals. Pure: RoutingScores
 * (routing-scores.ts) keeps them in Redis and calls this to read them.
 *
 * Two kinds of time buckets, each a Redis hash whose fields are `<provider>|<country>|<metric>`:
 * - call buckets (by the time of the call, a sixth of the call window each): calls, errors, and
 *   the latency of answered calls;
 * - send buckets (by the time of the send, one minute each): sends, code sends, and what later
 *   happened to them — final receipts (in time or late), deliveries and their delay, conversions
 *   and their delay — each counted in the bucket of the send it belongs to.
 */
export const CALL_METRICS = {
  calls: 'n',
  errors: 'e',
  /** Sum of the wall time (ms) of answered calls, and their number. */
  latencySum: 'l',
  answered: 'k',
} as const;

export const SEND_METRICS = {
  sent: 's',
  receipted: 'r',
  inTime: 'f',
  delivered: 'd',
  /** Seconds from send to delivered, summed. */
  deliveredSum: 't',
  codes: 'q',
  converted: 'v',
  /** Seconds from send to conversion, summed. */
  convertSum: 'w',
} as const;

/** The pseudo-country of a provider's figures over every destination. */
export const ALL_COUNTRIES = '*';
/** The country of a number libphonenumber cannot place (non-geographic, e.g. +800). */
export const UNKNOWN_COUNTRY = 'ZZ';
/** Call figures reach this many call windows back when a destination's traffic is thin. */
export const CALL_MEMORY_WINDOWS = 10;
/** A provider that sent a receipt for a destination within this is expected to keep sending them. */
export const RECEIPTS_REMEMBERED_MS = 24 * 3600_000;

export function field(provider: ProviderName, country: string, metric: string): string {
  return `${provider}|${country}|${metric}`;
}

/** A bucket's counters: field → count. */
export type Bucket = Map<string, number>;

export interface RoutingWindows {
  callWindowMs: number;
  callBucketMs: number;
  /** How far back call buckets are kept and read (CALL_MEMORY_WINDOWS call windows). */
  callMemoryMs: number;
  sendBucketMs: number;
  deliveryWindowMs: number;
  slowDeliveryMs: number;
}

export function routingWindows(
  callWindowSeconds: number,
  deliveryWindowSeconds: number,
  slowDeliverySeconds: number,
): RoutingWindows {
  const callWindowMs = callWindowSeconds * 1000;
  return {
    callWindowMs,
    callBucketMs: Math.max(1000, Math.round(callWindowMs / 6)),
    callMemoryMs: callWindowMs * CALL_MEMORY_WINDOWS,
    sendBucketMs: 60_000,
    deliveryWindowMs: deliveryWindowSeconds * 1000,
    slowDeliveryMs: slowDeliverySeconds * 1000,
  };
}

/** The call buckets a read at `now` needs, oldest first. */
export function callBucketRange(now: number, w: RoutingWindows): number[] {
  return range(Math.floor((now - w.callMemoryMs) / w.callBucketMs), Math.floor(now / w.callBucketMs));
}

/**
 * The send buckets whose sends are matured at `now` (every send in them is older than the
 * slow-delivery time) and within the delivery window before that, oldest first.
 */
export function maturedSendRange(now: number, w: RoutingWindows): number[] {
  const newest = Math.floor((now - w.slowDeliveryMs) / w.sendBucketMs) - 1;
  const oldest = Math.floor((now - w.slowDeliveryMs - w.deliveryWindowMs) / w.sendBucketMs);
  return range(oldest, newest);
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

interface CallSums {
  n: number;
  e: number;
  l: number;
  k: number;
}
type SendSums = Record<(typeof SEND_METRICS)[keyof typeof SEND_METRICS], number>;

const emptySend = (): SendSums => ({ s: 0, r: 0, f: 0, d: 0, t: 0, q: 0, v: 0, w: 0 });

/** `provider|country` → bucket index → call sums, with the `provider|*` totals beside. */
function callSumsByKey(buckets: ReadonlyMap<number, Bucket>): Map<string, Map<number, CallSums>> {
  const out = new Map<string, Map<number, CallSums>>();
  const add = (key: string, idx: number, metric: string, n: number) => {
    let byIdx = out.get(key);
    if (!byIdx) out.set(key, (byIdx = new Map()));
    let sums = byIdx.get(idx);
    if (!sums) byIdx.set(idx, (sums = { n: 0, e: 0, l: 0, k: 0 }));
    if (metric in sums) sums[metric as keyof CallSums] += n;
  };
  for (const [idx, bucket] of buckets) {
    for (const [f, n] of bucket) {
      const [provider, country, metric] = f.split('|');
      if (!provider || !country || !metric || country === ALL_COUNTRIES) continue;
      add(`${provider}|${country}`, idx, metric, n);
      add(`${provider}|${ALL_COUNTRIES}`, idx, metric, n);
    }
  }
  return out;
}

function sendSumsByKey(
  buckets: ReadonlyMap<number, Bucket>,
  matured: ReadonlySet<number>,
): Map<string, SendSums> {
  const out = new Map<string, SendSums>();
  const add = (key: string, metric: string, n: number) => {
    let sums = out.get(key);
    if (!sums) out.set(key, (sums = emptySend()));
    if (metric in sums) sums[metric as keyof SendSums] += n;
  };
  for (const [idx, bucket] of buckets) {
    if (!matured.has(idx)) continue;
    for (const [f, n] of bucket) {
      const [provider, country, metric] = f.split('|');
      if (!provider || !country || !metric || country === ALL_COUNTRIES) continue;
      add(`${provider}|${country}`, metric, n);
      add(`${provider}|${ALL_COUNTRIES}`, metric, n);
    }
  }
  return out;
}

/** What the shared counters say at `now`: per destination (and `*`), per provider. */
export interface SignalsRead {
  /** Destination → provider → signals; `*` holds each provider's figures over every destination. */
  byCountry: Map<string, Map<ProviderName, ProviderSignals>>;
  /** Destinations by recent traffic (calls in the call memory plus matured sends), busiest first. */
  traffic: Map<string, number>;
}

/**
 * Adds the buckets up into each provider's signals per destination. Call figures cover the call
 * window, reaching further back (up to CALL_MEMORY_WINDOWS windows) until they hold `minSamples`
 * calls; a destination whose figures are still thin takes the provider's figures over every
 * destination instead (flagged `widened`), so a provider failing everywhere is seen in quiet
 * countries too.
 */
export function readSignals(
  now: number,
  providers: readonly ProviderName[],
  callBuckets: ReadonlyMap<number, Bucket>,
  sendBuckets: ReadonlyMap<number, Bucket>,
  receipting: ReadonlyMap<string, number>,
  w: RoutingWindows,
  minSamples: number,
): SignalsRead {
  const calls = callSumsByKey(callBuckets);
  const sends = sendSumsByKey(sendBuckets, new Set(maturedSendRange(now, w)));
  const newest = Math.floor(now / w.callBucketMs);
  const windowOldest = Math.floor((now - w.callWindowMs) / w.callBucketMs);
  const memoryOldest = Math.floor((now - w.callMemoryMs) / w.callBucketMs);
  const countries = new Set<string>([ALL_COUNTRIES]);
  const traffic = new Map<string, number>();
  for (const key of [...calls.keys(), ...sends.keys()]) {
    const country = key.slice(key.indexOf('|') + 1);
    countries.add(country);
  }

  const own = (provider: ProviderName, country: string): ProviderSignals => {
    const s = noSignals(provider);
    const byIdx = calls.get(`${provider}|${country}`);
    if (byIdx) {
      let latencySum = 0;
      let answered = 0;
      let spanIdx = newest;
      for (let idx = newest; idx >= memoryOldest; idx--) {
        const b = byIdx.get(idx);
        if (b) {
          s.calls += b.n;
          s.errors += b.e;
          if (idx >= windowOldest) s.windowErrors += b.e;
          latencySum += b.l;
          answered += b.k;
        }
        spanIdx = idx;
        if (idx <= windowOldest && s.calls >= minSamples) break;
      }
      // The call window itself while the figures fit in it (its oldest bucket is partly older).
      s.callSpanSeconds = (spanIdx >= windowOldest ? w.callWindowMs : now - spanIdx * w.callBucketMs) / 1000;
      s.latencyMs = answered > 0 ? latencySum / answered : null;
    }
    const d = sends.get(`${provider}|${country}`);
    if (d) {
      s.matured = d.s;
      s.receipted = Math.min(d.r, d.s);
      s.inTime = Math.min(d.f, d.s);
      s.delivered = d.d;
      s.deliveredSeconds = d.d > 0 ? d.t / d.d : null;
      s.codes = d.q;
      s.converted = Math.min(d.v, d.q);
      s.convertSeconds = d.v > 0 ? d.w / d.v : null;
    }
    const seen = receipting.get(`${provider}|${country}`);
    s.reportsReceipts = seen !== undefined && now - seen <= RECEIPTS_REMEMBERED_MS;
    s.allWindowErrors = s.windowErrors;
    return s;
  };

  const all = new Map<ProviderName, ProviderSignals>(providers.map((p) => [p, own(p, ALL_COUNTRIES)]));
  const byCountry = new Map<string, Map<ProviderName, ProviderSignals>>();
  for (const country of countries) {
    const m = new Map<ProviderName, ProviderSignals>();
    let volume = 0;
    for (const p of providers) {
      const wide = all.get(p) as ProviderSignals;
      if (country === ALL_COUNTRIES) {
        m.set(p, wide);
        continue;
      }
      const s = own(p, country);
      volume += s.calls + s.matured;
      // GOV.UK Notify counts a provider's errors over all its traffic: so does the floor here.
      s.allWindowErrors = wide.windowErrors;
      if (s.calls < minSamples) {
        Object.assign(s, {
          calls: wide.calls,
          errors: wide.errors,
          windowErrors: wide.windowErrors,
          callSpanSeconds: wide.callSpanSeconds,
          latencyMs: wide.latencyMs,
        });
        if (wide.calls > 0) s.widened = { ...s.widened, calls: true };
      }
      if (s.matured < minSamples) {
        Object.assign(s, {
          matured: wide.matured,
          receipted: wide.receipted,
          inTime: wide.inTime,
          delivered: wide.delivered,
          deliveredSeconds: wide.deliveredSeconds,
          reportsReceipts: wide.reportsReceipts,
        });
        if (wide.matured > 0) s.widened = { ...s.widened, delivery: true };
      }
      if (s.codes < minSamples) {
        Object.assign(s, {
          codes: wide.codes,
          converted: wide.converted,
          convertSeconds: wide.convertSeconds,
        });
        if (wide.codes > 0) s.widened = { ...s.widened, codes: true };
      }
      m.set(p, s);
    }
    if (country !== ALL_COUNTRIES) traffic.set(country, volume);
    byCountry.set(country, m);
  }
  return { byCountry, traffic: new Map([...traffic].sort((a, b) => b[1] - a[1])) };
}
