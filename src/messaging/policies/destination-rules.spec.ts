import { allowedCountriesProblem } from '../../core/countries';
import {
  allowedCountries,
  codePrefix,
  costType,
  countryOf,
  destinationRefusal,
  isCodeType,
} from './destination-rules';

describe('allowedCountries', () => {
  it('defaults to DEFAULT_COUNTRY_CODE alone', () => {
    expect(allowedCountries(undefined, 'US')).toEqual(new Set(['US']));
    expect(allowedCountries(null, 'tr')).toEqual(new Set(['TR']));
  });

  it('adds the countries other settings name to the default', () => {
    expect(allowedCountries(undefined, 'US', ['TR'])).toEqual(new Set(['US', 'TR']));
  });

  it("is the tenant's list when set, or open with *", () => {
    expect(allowedCountries(['TR', 'DE'], 'US')).toEqual(new Set(['TR', 'DE']));
    expect(allowedCountries(['*'], 'US')).toBe('*');
  });
});

describe('allowedCountriesProblem', () => {
  it.each([[['US']], [['US', 'TR', 'GB']], [['*']]])('accepts %j', (v) => {
    expect(allowedCountriesProblem(v)).toBeNull();
  });

  it.each([
    [[], 'non-empty'],
    ['US', 'non-empty'],
    [['us'], 'unknown country'],
    [['XX'], 'unknown country'],
    [['USA'], 'unknown country'],
    [[1], 'unknown country'],
    [['*', 'US'], 'must be alone'],
  ])('refuses %j', (v, problem) => {
    expect(allowedCountriesProblem(v)).toContain(problem);
  });
});

describe('costType (libphonenumber getType)', () => {
  it.each([
    ['+19005550123', 'PREMIUM_RATE'],
    ['+448449990000', 'PREMIUM_RATE'],
    ['+33810123456', 'SHARED_COST'],
    ['+34901123456', 'SHARED_COST'],
    ['+12025550123', null],
    ['+905321234567', null],
    ['+80012345678', null],
  ])('%s is %s', (n, type) => {
    expect(costType(n)).toBe(type);
  });
});

describe('countryOf', () => {
  it.each([
    ['+905321234567', 'TR'],
    ['+12025550123', 'US'],
    ['+14165550123', 'CA'],
    ['+447911123456', 'GG'],
    ['+80012345678', null],
  ])('%s is in %s', (n, c) => {
    expect(countryOf(n)).toBe(c);
  });
});

describe('destinationRefusal', () => {
  const us = allowedCountries(undefined, 'US');

  it('passes a number of an allowed country', () => {
    expect(destinationRefusal('+12025550123', us)).toBeNull();
    expect(destinationRefusal('+905321234567', new Set(['US', 'TR']))).toBeNull();
  });

  it('refuses a country outside the list, and a non-geographic number', () => {
    expect(destinationRefusal('+905321234567', us)).toBe('country_not_allowed');
    expect(destinationRefusal('+14165550123', us)).toBe('country_not_allowed');
    expect(destinationRefusal('+80012345678', us)).toBe('country_not_allowed');
  });

  it('uses the country the caller already knows', () => {
    expect(destinationRefusal('+905321234567', us, 'US')).toBeNull();
  });

  it('opens every country with *', () => {
    expect(destinationRefusal('+905321234567', '*')).toBeNull();
    expect(destinationRefusal('+80012345678', '*')).toBeNull();
  });

  it('refuses premium-rate and shared-cost numbers always, even with *', () => {
    expect(destinationRefusal('+19005550123', us)).toBe('premium_rate');
    expect(destinationRefusal('+19005550123', '*')).toBe('premium_rate');
    expect(destinationRefusal('+33810123456', '*')).toBe('shared_cost');
  });
});

describe('codePrefix', () => {
  it('is the number less its last 4 digits', () => {
    expect(codePrefix('+12025550123')).toBe('+1202555');
    expect(codePrefix('+905321234567')).toBe('+90532123');
  });
});

describe('isCodeType', () => {
  it('is true for password_reset and 2fa_code only', () => {
    expect(isCodeType('password_reset')).toBe(true);
    expect(isCodeType('2fa_code')).toBe(true);
    expect(isCodeType('general_notification')).toBe(false);
    expect(isCodeType('appointment_reminder')).toBe(false);
  });
});
