import type { AttemptOutcome } from './delivery-store';
import { expireIfLate, retryDelayMs, VALIDITY_EXPIRED } from './validity-guard';

describe('retryDelayMs: when a failed delivery job runs again', () => {
  const job = (attemptsMade: number, backoff?: number | { type?: string; delay?: number }, attempts = 5) => ({
    attemptsMade,
    opts: { attempts, backoff },
  });

  it("follows Bull's exponential backoff, counting this run's failure", () => {
    const exp = { type: 'exponential', delay: 1000 };
    expect(retryDelayMs(job(0, exp))).toBe(1000);
    expect(retryDelayMs(job(1, exp))).toBe(3000);
    expect(retryDelayMs(job(2, exp))).toBe(7000);
  });

  it('takes a fixed backoff as it is', () => {
    expect(retryDelayMs(job(3, 250))).toBe(250);
    expect(retryDelayMs(job(3, { type: 'fixed', delay: 400 }))).toBe(400);
  });

  it('waits for the sweeper (a minute at least) when the job is out of attempts', () => {
    expect(retryDelayMs(job(4, { type: 'exponential', delay: 10 }, 5))).toBe(60_000);
  });

  it('never guesses long for an unknown strategy', () => {
    expect(retryDelayMs(job(0, { type: 'custom', delay: 5000 }))).toBe(0);
    expect(retryDelayMs(job(0))).toBe(0);
  });
});

describe('expireIfLate: an attempt that reached no provider, against the validity period', () => {
  const now = new Date('2026-12-06T10:00:00Z');
  const end = new Date('2026-12-06T10:01:00Z');
  const failed = (outcome: 'retry' | 'deferred' | 'failed' | 'unknown'): AttemptOutcome => ({
    id: 'm1',
    outcome,
    errorCode: 'twilio:http_500',
    errorMessage: 'Twilio answered 500',
    tried: [{ provider: 'twilio', code: 'twilio:http_500' }],
  });
  const opts = { permanent: false, untried: false };

  it('keeps a retry that comes in time', () => {
    const o = failed('retry');
    expect(expireIfLate(o, end, now, 59_000, opts)).toBe(o);
  });

  it('expires a retry or a deferral whose next attempt would come at or after the end', () => {
    for (const kind of ['retry', 'deferred'] as const) {
      const out = expireIfLate(failed(kind), end, now, 60_000, { permanent: false, untried: true });
      expect(out).toMatchObject({
        id: 'm1',
        outcome: 'expired',
        errorCode: VALIDITY_EXPIRED,
        tried: [{ provider: 'twilio', code: 'twilio:http_500' }],
        untried: true,
      });
      expect(out.outcome !== 'sent' && out.errorMessage).toContain('before the next attempt');
    }
  });

  it('expires anything that found no provider once the validity has ended, even a last attempt', () => {
    for (const kind of ['retry', 'deferred', 'failed'] as const) {
      const out = expireIfLate(failed(kind), end, end, 0, opts);
      expect(out).toMatchObject({ outcome: 'expired', errorCode: VALIDITY_EXPIRED, untried: false });
      expect(out.outcome !== 'sent' && out.errorMessage).toContain('last: Twilio answered 500');
    }
  });

  it('leaves a permanent failure, an unknown outcome and a message without validity alone', () => {
    const permanent = failed('failed');
    expect(expireIfLate(permanent, end, end, 0, { permanent: true, untried: false })).toBe(permanent);
    const unknown = failed('unknown');
    expect(expireIfLate(unknown, end, end, 0, opts)).toBe(unknown);
    const retry = failed('retry');
    expect(expireIfLate(retry, null, end, 1e12, opts)).toBe(retry);
  });

  it('does not expire a final failure for its next attempt, only for the end itself', () => {
    const o = failed('failed');
    expect(expireIfLate(o, end, now, 120_000, opts)).toBe(o);
  });
});
