import { expiresBefore, isPastValidity } from '../../core/validity';
import type { AttemptOutcome } from './delivery-store';

/** The error code of a message that ended `expired` (the claim's and the sweeper's too). */
export const VALIDITY_EXPIRED = 'validity_expired';

/**
 * A message the sweeper queues again (Bull will not retry its job) waits at least this long: the
 * sweep re-queues `queued` rows idle for a minute.
 */
const REQUEUED_AFTER_MS = 60_000;

/** What a delivery job says about its own retry (Bull's `attemptsMade` and options). */
export interface RetryingJob {
  attemptsMade: number;
  opts: { attempts?: number; backoff?: number | { type?: string; delay?: number } };
}

/**
 * Pure: how long after this run fails the job runs again. Bull counts this run's failure first, so
 * exponential backoff waits `(2^(attemptsMade + 1) - 1) · delay`; a job out of attempts is not
 * retried by Bull, and its messages wait for the sweeper (a minute at least). Unknown strategies:
 * 0 (never a reason to expire early).
 */
export function retryDelayMs(job: RetryingJob): number {
  const runs = job.attemptsMade + 1;
  if (runs >= (job.opts.attempts ?? 1)) return REQUEUED_AFTER_MS;
  const b = job.opts.backoff;
  if (typeof b === 'number') return b;
  if (!b || typeof b.delay !== 'number') return 0;
  if (b.type === 'fixed') return b.delay;
  if (b.type === 'exponential') return Math.round((Math.pow(2, runs) - 1) * b.delay);
  return 0;
}

/** Thrown by the worker's hook before a provider call the validity period no longer allows. */
export class ValidityExpiredError extends Error {
  constructor(expiresAt: Date) {
    super(`its validity period ended at ${expiresAt.toISOString()}`);
    this.name = 'ValidityExpiredError';
  }
}

/**
 * Pure: an attempt that handed the message to no provider, seen against its validity period. A
 * retry, a deferral (every provider down) or a failure for want of a provider ends `expired`
 * instead when the validity has run out, or when the next attempt (`nextInMs` from `now`) would
 * come at or after its end: a message that cannot go out in time ends at once, so its
 * `message.expired` callback comes now rather than after the wait. Other outcomes (sent, a
 * permanent failure, an unknown one) are left as they are. `untried`: no provider was called
 * (the attempt is then given back, as for a deferral).
 */
export function expireIfLate(
  outcome: AttemptOutcome,
  expiresAt: Date | null,
  now: Date,
  nextInMs: number,
  opts: { permanent: boolean; untried: boolean },
): AttemptOutcome {
  if (expiresAt === null || outcome.outcome === 'sent' || outcome.outcome === 'unknown') return outcome;
  if (outcome.outcome === 'expired' || (outcome.outcome === 'failed' && opts.permanent)) return outcome;
  const past = isPastValidity(expiresAt, now);
  const late = outcome.outcome !== 'failed' && expiresBefore(expiresAt, now, nextInMs);
  if (!past && !late) return outcome;
  const why = past
    ? `not handed to a provider within its validity period (it ended at ${expiresAt.toISOString()})`
    : `its validity period ends at ${expiresAt.toISOString()}, before the next attempt could be made (${new Date(now.getTime() + nextInMs).toISOString()})`;
  return {
    id: outcome.id,
    outcome: 'expired',
    errorCode: VALIDITY_EXPIRED,
    errorMessage: `${why}; last: ${outcome.errorMessage}`,
    tried: outcome.tried,
    untried: opts.untried,
  };
}
