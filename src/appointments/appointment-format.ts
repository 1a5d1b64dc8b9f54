/** How a reminder writes an appointment's start. Pure: imports nothing from Nest, TypeORM or Redis. */

/** The date and time of `startsAt` as written in `timeZone` (IANA) and the message's language. */
export function formatAppointment(
  a: { startsAt: Date; timezone: string },
  language: string,
): { date: string; time: string } {
  const locale = language === 'tr' ? 'tr-TR' : 'en-US';
  return {
    date: new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: a.timezone }).format(a.startsAt),
    time: new Intl.DateTimeFormat(locale, { timeStyle: 'short', timeZone: a.timezone }).format(a.startsAt),
  };
}

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
