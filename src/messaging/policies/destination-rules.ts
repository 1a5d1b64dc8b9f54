/**
 * Where a tenant may send, as pure decisions (SMS pumping defences): the destination
 * country allow-list, refusal of premium-rate and shared-cost numbers, and the keys of the code
 * velocity limits. Imports nothing from Nest, TypeORM or Redis; the DestinationPolicy service
 * applies these with the tenant's settings and counts in Redis.
 */
import { Metadata, type MetadataJson } from 'libphonenumber-js/core';
import maxMetadata from 'libphonenumber-js/metadata.max.json';
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { OPEN_COUNTRIES } from '../../core/countries';
import { CODE_MESSAGE_TYPES, MessageType } from '../../core/message-types';

/** Which rule refused a destination; the name is in the refusal (`rule`, or a bulk's `reason`). */
export type DestinationRule = 'country_not_allowed' | 'premium_rate' | 'shared_cost';
/** Which limit refused a code message (password_reset, 2fa_code). */
export type CodeRule = 'code_number_limit' | 'code_prefix_velocity';
export type RefusalRule = DestinationRule | CodeRule;

/** `'*'`: every country; otherwise the ISO 3166 alpha-2 codes a tenant may send to. */
export type AllowedCountries = '*' | ReadonlySet<string>;

const OPEN = OPEN_COUNTRIES;

/**
 * The countries a tenant may send to: its `allowed_countries` setting, else the default —
 * DEFAULT_COUNTRY_CODE plus any country the tenant's other settings name. No other setting
 * names a country today (`default_language` is a language, not a destination), so the default
 * is DEFAULT_COUNTRY_CODE alone; `namedByOtherSettings` is where a future one would join.
 */
export function allowedCountries(
  setting: readonly string[] | null | undefined,
  defaultCountry: string,
  namedByOtherSettings: readonly string[] = [],
): AllowedCountries {
  if (setting && setting.length > 0) return setting.includes(OPEN) ? OPEN : new Set(setting);
  return new Set([defaultCountry.toUpperCase(), ...namedByOtherSettings]);
}

type Plan = { type(name: string): { pattern(): string } | undefined };
/** The metadata `libphonenumber-js/max` itself uses. */
const metadataJson = maxMetadata as unknown as MetadataJson;
/** Per numbering plan (country, or calling code for non-geographic ones): the cost patterns. */
const costPatterns = new Map<string, { premium: RegExp | null; shared: RegExp | null }>();
const callingCodes = (metadataJson as unknown as { country_calling_codes: Record<string, string[]> })
  .country_calling_codes;

function patternsOf(plan: string): { premium: RegExp | null; shared: RegExp | null } {
  let p = costPatterns.get(plan);
  if (!p) {
    const m = new Metadata(metadataJson);
    m.selectNumberingPlan(plan as never);
    const numbering = m.numberingPlan as unknown as Plan;
    const re = (type: string) => {
      const source = numbering.type(type)?.pattern();
      return source ? new RegExp(`^(?:${source})$`) : null;
    };
    p = { premium: re('PREMIUM_RATE'), shared: re('SHARED_COST') };
    costPatterns.set(plan, p);
  }
  return p;
}

/** The calling code and national significant number of an E.164 number, without a full parse. */
function split(e164: string): { callingCode: string; national: string } | null {
  for (let len = 1; len <= 3; len++) {
    const cc = e164.slice(1, 1 + len);
    if (callingCodes[cc]) return { callingCode: cc, national: e164.slice(1 + len) };
  }
  return null;
}

/**
 * The destination country of a valid E.164 number (null for non-geographic numbers such as
 * +800). Cheap when the calling code belongs to one country (+90 is TR); a full parse otherwise
 * (+1 is the US, Canada and 20 more). Callers that already know it pass it instead.
 */
export function countryOf(e164: string): string | null {
  const s = split(e164);
  const countries = s ? callingCodes[s.callingCode] : undefined;
  if (countries && countries.length === 1) return countries[0] === '001' ? null : countries[0];
  try {
    return parsePhoneNumberWithError(e164).country ?? null;
  } catch {
    return null;
  }
}

/**
 * PREMIUM_RATE or SHARED_COST as libphonenumber's getType() says, or null. The type patterns of
 * the number's plan(s) are tried first, so the ordinary number skips getType's full walk (a
 * 10,000-number bulk); a match is confirmed by getType() itself.
 */
export function costType(e164: string): 'PREMIUM_RATE' | 'SHARED_COST' | null {
  const s = split(e164);
  if (!s) return null;
  const plans = callingCodes[s.callingCode].map((c) => (c === '001' ? s.callingCode : c));
  const suspicious = plans.some((plan) => {
    const p = patternsOf(plan);
    return (p.premium?.test(s.national) ?? false) || (p.shared?.test(s.national) ?? false);
  });
  if (!suspicious) return null;
  try {
    const type = parsePhoneNumberWithError(e164).getType();
    return type === 'PREMIUM_RATE' || type === 'SHARED_COST' ? type : null;
  } catch {
    return null;
  }
}

/**
 * The rule that refuses sending to `e164` (a valid E.164 number), or null. Premium-rate and
 * shared-cost numbers are refused always (even with `*`); then the country must be allowed.
 */
export function destinationRefusal(
  e164: string,
  allowed: AllowedCountries,
  country?: string | null,
): DestinationRule | null {
  const cost = costType(e164);
  if (cost === 'PREMIUM_RATE') return 'premium_rate';
  if (cost === 'SHARED_COST') return 'shared_cost';
  if (allowed === OPEN) return null;
  const c = country === undefined ? countryOf(e164) : country;
  return c !== null && allowed.has(c) ? null : 'country_not_allowed';
}

/** Digits of a number hidden by its velocity prefix: one prefix is a range of 10,000 numbers. */
export const PREFIX_HIDDEN_DIGITS = 4;

/** The number range a code velocity limit counts: calling code and national digits, less the last 4. */
export function codePrefix(e164: string): string {
  return e164.slice(0, Math.max(2, e164.length - PREFIX_HIDDEN_DIGITS));
}

/** Message types that carry a code and count against the code limits. */
export function isCodeType(type: MessageType): boolean {
  return CODE_MESSAGE_TYPES.includes(type);
}

/** The human line of a destination refusal. */
export function refusalMessage(rule: DestinationRule, e164: string, country: string | null): string {
  switch (rule) {
    case 'premium_rate':
      return `phone_number ${e164} is a premium-rate number; premium-rate destinations are refused`;
    case 'shared_cost':
      return `phone_number ${e164} is a shared-cost number; shared-cost destinations are refused`;
    case 'country_not_allowed':
      return `phone_number ${e164} is in ${country ?? 'no country (non-geographic)'}, which is not in this tenant's allowed_countries`;
  }
}
