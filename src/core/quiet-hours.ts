/**
 * Quiet hours: a daily window in the recipient's time zone when promotional messages wait.
 * Pure (Intl only); the caller passes the clock's now.
 */
export interface QuietHours {
  /** "HH:MM", 24-hour. */
  start: string;
  end: string;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isQuietHours(v: unknown): v is QuietHours {
  if (typeof v !== 'object' || v === null) return false;
  const q = v as Record<string, unknown>;
  return (
    typeof q.start === 'string' &&
    typeof q.end === 'string' &&
    HHMM.test(q.start) &&
    HHMM.test(q.end) &&
    q.start !== q.end
  );
}

function minutesOf(hhmm: string): number {
  const [, h, m] = HHMM.exec(hhmm) as RegExpExecArray;
  return Number(h) * 60 + Number(m);
}

const formats = new Map<string, Intl.DateTimeFormat>();
/** Wall-clock minutes since midnight of `at` in `zone`. */
export function localMinutes(at: Date, zone: string): number {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(zone, f);
  }
  const parts = f.formatToParts(at);
  const h = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const m = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return (h % 24) * 60 + m;
}

/**
 * When `now` falls inside the window in `zone`, the instant the window ends (to the minute);
 * otherwise null. A window may wrap midnight ("21:00"–"08:00"). Across a DST change the end may
 * be an hour off; never earlier than now.
 */
export function quietUntil(now: Date, zone: string, window: QuietHours): Date | null {
  const m = localMinutes(now, zone);
  const s = minutesOf(window.start);
  const e = minutesOf(window.end);
  const inside = s < e ? m >= s && m < e : m >= s || m < e;
  if (!inside) return null;
  const wait = (e - m + 1440) % 1440;
  const startOfMinute = Math.floor(now.getTime() / 60_000) * 60_000;
  return new Date(startOfMinute + wait * 60_000);
}

/** Countries with a single time zone, for recipients without their own (others: the tenant's). */
const COUNTRY_ZONES: Record<string, string> = {
  TR: 'Europe/Istanbul',
  DE: 'Europe/Berlin',
  GB: 'Europe/London',
  FR: 'Europe/Paris',
  NL: 'Europe/Amsterdam',
  IT: 'Europe/Rome',
  ES: 'Europe/Madrid',
  AZ: 'Asia/Baku',
  GR: 'Europe/Athens',
  JP: 'Asia/Tokyo',
  IN: 'Asia/Kolkata',
};

/** The recipient's zone, else their number's country's (when it has one), else the tenant's, else UTC. */
export function recipientZone(
  own: string | null,
  country: string | null,
  tenantZone: string | undefined,
): string {
  return own ?? (country ? COUNTRY_ZONES[country] : undefined) ?? tenantZone ?? 'UTC';
}
