import {
  expiresBefore,
  isPastValidity,
  MAX_VALIDITY_SECONDS,
  resolveValiditySeconds,
  secondsLeft,
  validityEnd,
  validityProblem,
} from './validity';

describe('validity periods', () => {
  const at = (iso: string) => new Date(iso);

  it.each([1, 60, MAX_VALIDITY_SECONDS])('accepts %s seconds', (v) => {
    expect(validityProblem(v)).toBeNull();
  });

  it.each([0, -5, MAX_VALIDITY_SECONDS + 1])('refuses %s seconds, naming the bounds', (v) => {
    expect(validityProblem(v)).toBe('validity_seconds must be between 1 and 259200 (72 hours)');
  });

  it.each([1.5, '60', null, Number.NaN])('refuses %p as not a whole number', (v) => {
    expect(validityProblem(v)).toBe('validity_seconds must be a whole number of seconds');
  });

  it('gives a code its own lifetime unless it asks for less, and nothing else a default', () => {
    expect(resolveValiditySeconds(undefined, 600)).toBe(600);
    expect(resolveValiditySeconds(null, 600)).toBe(600);
    expect(resolveValiditySeconds(60, 600)).toBe(60);
    // A code's message never outlives the code it carries.
    expect(resolveValiditySeconds(3600, 600)).toBe(600);
    expect(resolveValiditySeconds(undefined, null)).toBeNull();
    expect(resolveValiditySeconds(90, null)).toBe(90);
  });

  it('counts the validity from when the message is due', () => {
    expect(validityEnd(at('2026-12-06T10:00:00Z'), 90)).toEqual(at('2026-12-06T10:01:30Z'));
    expect(validityEnd(at('2026-12-06T10:00:00Z'), null)).toBeNull();
  });

  it('is past its validity at the end itself, not before', () => {
    const end = at('2026-12-06T10:01:00Z');
    expect(isPastValidity(end, at('2026-12-06T10:00:59.999Z'))).toBe(false);
    expect(isPastValidity(end, end)).toBe(true);
    expect(isPastValidity(null, at('2099-01-01T00:00:00Z'))).toBe(false);
  });

  it('knows when a later attempt would come too late', () => {
    const end = at('2026-12-06T10:01:00Z');
    const now = at('2026-12-06T10:00:00Z');
    expect(expiresBefore(end, now, 59_999)).toBe(false);
    expect(expiresBefore(end, now, 60_000)).toBe(true);
    expect(expiresBefore(end, now, -1)).toBe(false);
    expect(expiresBefore(null, now, 1e12)).toBe(false);
  });

  it('rounds the seconds left up, never below zero', () => {
    const end = at('2026-12-06T10:01:00Z');
    expect(secondsLeft(end, at('2026-12-06T10:00:00Z'))).toBe(60);
    expect(secondsLeft(end, at('2026-12-06T10:00:59.600Z'))).toBe(1);
    expect(secondsLeft(end, at('2026-12-06T10:02:00Z'))).toBe(0);
    expect(secondsLeft(null, end)).toBeNull();
  });
});
