import {
  isSupportedCountry,
  parsePhoneNumberWithError,
  ParseError,
  validatePhoneNumberLength,
  type CountryCode,
} from 'libphonenumber-js/max';

export const INVALID_REASONS = [
  'not_a_number',
  'invalid_country_code',
  'too_short',
  'too_long',
  'invalid_length',
  'invalid_number',
] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

export type PhoneValidation =
  | {
      valid: true;
      e164: string;
      national_format: string;
      international_format: string;
      country: string | null;
      type: string | null;
    }
  | { valid: false; reason: InvalidReason };

export function isValidCountryCode(code: string): boolean {
  return isSupportedCountry(code.toUpperCase());
}

function lengthReason(input: string, country: CountryCode | undefined): InvalidReason {
  const r = validatePhoneNumberLength(input, country);
  if (r === 'TOO_SHORT') return 'too_short';
  if (r === 'TOO_LONG') return 'too_long';
  if (r === 'INVALID_LENGTH') return 'invalid_length';
  if (r === 'INVALID_COUNTRY') return 'invalid_country_code';
  return 'invalid_number';
}

function countryOrNone(defaultCountry: string): CountryCode | undefined {
  return isValidCountryCode(defaultCountry) ? (defaultCountry.toUpperCase() as CountryCode) : undefined;
}

/** Validates with full metadata; `defaultCountry` applies to numbers written without +country. */
export function validatePhoneNumber(input: string, defaultCountry: string): PhoneValidation {
  if (input.length > 64) return { valid: false, reason: 'not_a_number' };
  const country = countryOrNone(defaultCountry);
  try {
    const n = parsePhoneNumberWithError(input, country);
    if (!n.isValid()) return { valid: false, reason: lengthReason(input, country) };
    return {
      valid: true,
      e164: n.number,
      national_format: n.formatNational(),
      international_format: n.formatInternational(),
      country: n.country ?? null,
      type: n.getType() ?? null,
    };
  } catch (e) {
    if (e instanceof ParseError) {
      switch (e.message) {
        case 'INVALID_COUNTRY':
          return { valid: false, reason: 'invalid_country_code' };
        case 'TOO_SHORT':
          return { valid: false, reason: 'too_short' };
        case 'TOO_LONG':
          return { valid: false, reason: 'too_long' };
        default:
          return { valid: false, reason: 'not_a_number' };
      }
    }
    throw e;
  }
}

/**
 * The send path's check: E.164 and country only, without the formatting and type lookups of
 * `validatePhoneNumber` (a 10,000-number bulk runs it 10,000 times).
 */
export function normalizeForSend(
  input: string,
  defaultCountry: string,
): { valid: true; e164: string; country: string | null } | { valid: false; reason: InvalidReason } {
  if (input.length > 64) return { valid: false, reason: 'not_a_number' };
  const country = countryOrNone(defaultCountry);
  try {
    const n = parsePhoneNumberWithError(input, country);
    if (n.isValid()) return { valid: true, e164: n.number, country: n.country ?? null };
  } catch {
    // fall through to the full check, which names the reason
  }
  const full = validatePhoneNumber(input, defaultCountry);
  return full.valid ? { valid: true, e164: full.e164, country: full.country } : full;
}

export function normalizeToE164(input: string, defaultCountry: string): string | null {
  const v = validatePhoneNumber(input, defaultCountry);
  return v.valid ? v.e164 : null;
}

/**
 * The ISO 3166-1 alpha-2 country of an E.164 number; null when it has none (non-geographic,
 * e.g. +800) or is not a number. For per-country figures (adaptive routing), not for validation.
 */
export function countryOfNumber(e164: string): string | null {
  try {
    return parsePhoneNumberWithError(e164).country ?? null;
  } catch {
    return null;
  }
}
