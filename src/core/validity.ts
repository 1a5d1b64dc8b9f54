/**
 * Validity periods: how long a message may wait before it is handed to a provider. A message not
 * handed over by its end (`expires_at`) ends `expired`: never sent, never charged. Pure.
 */

/** The shortest validity a send may ask for (Twilio's own lower bound). */
export const MIN_VALIDITY_SECONDS = 1;
/** The longest: 72 hours (AWS End User Messaging's longest time to live, and its default). */
export const MAX_VALIDITY_SECONDS = 72 * 3600;

/** Why `v` is not a validity in seconds (a whole number within the bounds), or null. */
export function validityProblem(v: unknown): string | null {
  if (typeof v !== 'number' || !Number.isInteger(v))
    return 'validity_seconds must be a whole number of seconds';
  if (v < MIN_VALIDITY_SECONDS || v > MAX_VALIDITY_SECONDS)
    return `validity_seconds must be between ${MIN_VALIDITY_SECONDS} and ${MAX_VALIDITY_SECONDS} (72 hours)`;
  return null;
}

/**
 * The validity a message gets: the caller's own (a send's value, else its template's), else its
 * type's default. A code's default is its own lifetime (`codeTtlSeconds`, given for code types
 * only), and a code's message never outlives the code: a longer value is cut to it. Other types
 * have none unless set (null).
 */
export function resolveValiditySeconds(
  given: number | null | undefined,
  codeTtlSeconds: number | null,
): number | null {
  const own = given ?? null;
  if (codeTtlSeconds === null) return own;
  return own === null ? codeTtlSeconds : Math.min(own, codeTtlSeconds);
}

/** The validity period's end: from when the message is due (its scheduled time, else acceptance). */
export function validityEnd(due: Date, seconds: number | null): Date | null {
  return seconds === null ? null : new Date(due.getTime() + seconds * 1000);
}

/** Whether a message with this validity end may no longer be handed to a provider at `now`. */
export function isPastValidity(expiresAt: Date | null, now: Date): boolean {
  return expiresAt !== null && now.getTime() >= expiresAt.getTime();
}

/**
 * Whether an attempt `delayMs` after `now` would come at or after the validity end: a retry or a
 * deferral that could not be made in time.
 */
export function expiresBefore(expiresAt: Date | null, now: Date, delayMs: number): boolean {
  return expiresAt !== null && now.getTime() + Math.max(0, delayMs) >= expiresAt.getTime();
}

/**
 * Whole seconds left of the validity at `now`, rounded up (a provider counts in whole seconds; a
 * message with any time left is handed over with at least 1); null without a validity.
 */
export function secondsLeft(expiresAt: Date | null, now: Date): number | null {
  if (expiresAt === null) return null;
  return Math.max(0, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000));
}
