import { isValidCountryCode, normalizeForSend, normalizeToE164, validatePhoneNumber } from './phone';

describe('validatePhoneNumber', () => {
  it("formats the brief's 234-567-8900 (US)", () => {
    expect(validatePhoneNumber('234-567-8900', 'US')).toEqual({
      valid: true,
      e164: '+12345678900',
      national_format: '(234) 567-8900',
      international_format: '+1 234 567 8900',
      country: 'US',
      type: 'FIXED_LINE_OR_MOBILE',
    });
  });

  it.each([
    ['+1234567890', 'too_short'],
    ['+0987654321', 'invalid_country_code'],
    ['+999123', 'invalid_country_code'],
    ['call me', 'not_a_number'],
    ['+1202555012399999', 'too_long'],
    ['x'.repeat(65), 'not_a_number'],
  ])('rejects %s (%s)', (input, reason) => {
    expect(validatePhoneNumber(input, 'US')).toEqual({ valid: false, reason });
  });

  it('reads national Turkish numbers with TR and knows they are mobile', () => {
    expect(validatePhoneNumber('0532 123 45 67', 'TR')).toMatchObject({
      valid: true,
      e164: '+905321234567',
      type: 'MOBILE',
    });
  });

  it('ignores an unknown default country: numbers must then be international', () => {
    expect(validatePhoneNumber('+12025550123', 'XX')).toMatchObject({ valid: true, e164: '+12025550123' });
    expect(validatePhoneNumber('2025550123', 'XX').valid).toBe(false);
  });

  it('normalizes for sends and for lookups the same way', () => {
    expect(normalizeToE164('(202) 555-0123', 'US')).toBe('+12025550123');
    expect(normalizeForSend('(202) 555-0123', 'US')).toEqual({
      valid: true,
      e164: '+12025550123',
      country: 'US',
    });
    expect(normalizeForSend('+1234567890', 'US')).toEqual({ valid: false, reason: 'too_short' });
    expect(isValidCountryCode('tr')).toBe(true);
    expect(isValidCountryCode('XX')).toBe(false);
  });
});
