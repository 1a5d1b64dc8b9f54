/**
 * Destination countries a tenant may send to (`allowed_countries`): the vocabulary shared by the
 * tenant settings (validation) and the destination policy (SMS pumping). Pure.
 */
import { getCountries } from 'libphonenumber-js/max';

/** The `allowed_countries` value that opens every country. */
export const OPEN_COUNTRIES = '*';

/** Upper-case ISO 3166 alpha-2 codes libphonenumber knows. */
export const KNOWN_COUNTRIES: ReadonlySet<string> = new Set(getCountries());

/**
 * The problem with an `allowed_countries` setting, or null when it is good: `["*"]` alone, or a
 * non-empty list of known upper-case ISO 3166 alpha-2 codes.
 */
export function allowedCountriesProblem(value: unknown): string | null {
  if (!Array.isArray(value) || value.length === 0)
    return 'allowed_countries must be a non-empty array of ISO 3166 alpha-2 codes, or ["*"]';
  if (value.length > KNOWN_COUNTRIES.size)
    return `allowed_countries has more than ${KNOWN_COUNTRIES.size} entries`;
  if (value.includes(OPEN_COUNTRIES))
    return value.length === 1 ? null : 'allowed_countries: "*" opens every country and must be alone';
  const unknown = value.filter((c) => typeof c !== 'string' || !KNOWN_COUNTRIES.has(c));
  if (unknown.length > 0)
    return `allowed_countries: unknown country code(s) ${unknown.map((c) => JSON.stringify(c)).join(', ')} (upper-case ISO 3166 alpha-2, e.g. "US", "TR")`;
  return null;
}
