/**
 * Delivery-time optimisation: at which local hour a recipient answers soonest, and when, within a
 * campaign's window, their message should go. Pure (Intl only); the caller passes the times.
 */
import { localMinutes } from './quiet-hours';

/** One past message that got an answer: when it was sent and when it was converted or clicked. */
export interface ResponseSample {
  sentAt: Date;
  /** The first response: the code's conversion or the message's first click, whichever came first. */
  respondedAt: Date;
  /** The recipient's time zone (their own, else their number's country's, else the tenant's). */
  zone: string;
}

/** The local hour (0–23) of `at` in `zone`. */
export function localHour(at: Date, zone: string): number {
  return Math.floor(localMinutes(at, zone) / 60);
}

/**
 * The local send hour whose messages were answered soonest: the hour with the smallest median
 * delay from send to response (ties: more samples, then the earlier hour). Null without samples.
 * Negative delays (clock skew) count as zero.
 */
export function bestHour(samples: readonly ResponseSample[]): number | null {
  const delays = new Map<number, number[]>();
  for (const s of samples) {
    const hour = localHour(s.sentAt, s.zone);
    const delay = Math.max(0, s.respondedAt.getTime() - s.sentAt.getTime());
    const list = delays.get(hour);
    if (list) list.push(delay);
    else delays.set(hour, [delay]);
  }
  let best: { hour: number; median: number; n: number } | null = null;
  for (const [hour, list] of delays) {
    const median = medianOf(list);
    if (
      best === null ||
      median < best.median ||
      (median === best.median && (list.length > best.n || (list.length === best.n && hour < best.hour)))
    )
      best = { hour, median, n: list.length };
  }
  return best?.hour ?? null;
}

function medianOf(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * The first instant in [from, until) at which it is `hour`:00 in `zone` (to the minute), or null
 * when the window holds no such instant. Across a DST change it may land an hour off, never
 * outside the window.
 */
export function nextLocalHour(from: Date, until: Date, zone: string, hour: number): Date | null {
  const start = Math.ceil(from.getTime() / 60_000) * 60_000;
  const wait = (hour * 60 - localMinutes(new Date(start), zone) + 1440) % 1440;
  const at = start + wait * 60_000;
  return at < until.getTime() ? new Date(at) : null;
}

export type SendTimeBasis = 'recipient' | 'tenant' | 'window_start';

export interface SendTimeChoice {
  at: Date;
  /** The recipient's own best hour, the tenant's, or neither (the window's start). */
  basis: SendTimeBasis;
  /** The local hour chosen (null: the window's start). */
  hour: number | null;
}

/**
 * When a recipient's message goes within the window: at their own best local hour, else at the
 * tenant's best hour (in the recipient's zone), else at the window's start; an hour the window
 * does not hold falls through to the next rule. Quiet hours are applied afterwards by the accept
 * path and still bind.
 */
export function chooseSendTime(input: {
  window: { start: Date; end: Date };
  zone: string;
  recipientHour: number | null;
  tenantHour: number | null;
}): SendTimeChoice {
  const { window, zone } = input;
  if (input.recipientHour !== null) {
    const at = nextLocalHour(window.start, window.end, zone, input.recipientHour);
    if (at) return { at, basis: 'recipient', hour: input.recipientHour };
  }
  if (input.tenantHour !== null) {
    const at = nextLocalHour(window.start, window.end, zone, input.tenantHour);
    if (at) return { at, basis: 'tenant', hour: input.tenantHour };
  }
  return { at: window.start, basis: 'window_start', hour: null };
}
