/**
 * Sender identity: who a tenant's messages come from, per destination country (tenant setting
 * `senders`). The vocabulary shared by the tenant settings (validation), the accept path (which
 * sender a message gets) and the providers (how each hands it over). Pure.
 *
 * A sender is one of three kinds, and its stored form says which:
 * - a number in E.164 (`+905321234567`): starts with "+";
 * - a Twilio Messaging Service SID (`MG` + 32 lower-case hex digits);
 * - else an alphanumeric sender ID (`OKULUM`): 1–11 of A–Z a–z 0–9 and space, at least one letter.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { KNOWN_COUNTRIES } from './countries';

/** The `senders` key of the sender for every country without its own. */
export const DEFAULT_SENDER = '*';

/** One sender: exactly one of the three fields. */
export interface SenderEntry {
  alphanumeric?: string;
  number?: string;
  messaging_service_sid?: string;
}

/** The tenant setting: ISO 3166 alpha-2 country (or "*") → its sender. */
export type SenderSettings = Record<string, SenderEntry>;

export type SenderKind = 'alphanumeric' | 'number' | 'messaging_service';

export const SENDER_FIELDS = ['alphanumeric', 'number', 'messaging_service_sid'] as const;

/**
 * Destination countries whose networks do not carry alphanumeric sender IDs: a message must come
 * from a number there. Deliberately short: only countries where the providers' own documents
 * agree (checked 2026-12):
 * - US, CA: Twilio's country guidelines (twilio.com/guidelines/us/sms, /ca/sms: alphanumeric,
 *   pre-registered and dynamic, "Not Supported" by the operator networks);
 * - US, CA, CN: AWS End User Messaging "Sender IDs" page
 *   (docs.aws.amazon.com/sms-voice/latest/userguide/sender-id.html: "Several major markets
 *   (including Canada, China, and the United States) don't support sender ID").
 * Countries where an alphanumeric sender needs registration first (TR, IN, SA, AE, …) are not
 * here: a registered one is allowed; registering it with the provider is the operator's task.
 */
export const ALPHANUMERIC_FORBIDDEN: ReadonlySet<string> = new Set(['US', 'CA', 'CN']);

const ALPHANUMERIC = /^[A-Za-z0-9 ]{1,11}$/;
const LETTER = /[A-Za-z]/;
const E164 = /^\+[1-9]\d{1,14}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-f]{32}$/;
/** sms_messages.sender is varchar(64). */
const MAX_STORED = 64;

/** What a stored sender is, from its form. */
export function senderKind(sender: string): SenderKind {
  if (sender.startsWith('+')) return 'number';
  if (MESSAGING_SERVICE_SID.test(sender)) return 'messaging_service';
  return 'alphanumeric';
}

/** A problem with a `senders` setting: where (`US.alphanumeric`) and why (reads after the field's name). */
export interface SendersProblem {
  path: string;
  message: string;
}

/**
 * The first problem with a `senders` setting, or null when it is good: an object whose keys are
 * known upper-case ISO 3166 alpha-2 codes or "*", each naming exactly one sender of a valid form;
 * an alphanumeric one never for a country in ALPHANUMERIC_FORBIDDEN. `null` (no senders) is good.
 */
export function sendersProblem(value: unknown): SendersProblem | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    return {
      path: '',
      message:
        'must be an object of destination countries (upper-case ISO 3166 alpha-2, or "*" for every other country) to {"alphanumeric"|"number"|"messaging_service_sid": value}',
    };
  for (const [country, entry] of Object.entries(value as Record<string, unknown>)) {
    if (country !== DEFAULT_SENDER && !KNOWN_COUNTRIES.has(country))
      return {
        path: country,
        message: `is not a country key: upper-case ISO 3166 alpha-2 such as "TR", or "*" for every other country`,
      };
    const problem = entryProblem(country, entry);
    if (problem) return problem;
  }
  return null;
}

function entryProblem(country: string, entry: unknown): SendersProblem | null {
  const fields =
    typeof entry === 'object' && entry !== null && !Array.isArray(entry)
      ? Object.keys(entry as Record<string, unknown>)
      : [];
  if (fields.length !== 1 || !(SENDER_FIELDS as readonly string[]).includes(fields[0]))
    return {
      path: country,
      message: 'must be exactly one of {"alphanumeric": …}, {"number": …}, {"messaging_service_sid": …}',
    };
  const field = fields[0] as (typeof SENDER_FIELDS)[number];
  const path = `${country}.${field}`;
  const v = (entry as Record<string, unknown>)[field];
  if (typeof v !== 'string') return { path, message: 'must be a string' };
  switch (field) {
    case 'alphanumeric':
      if (!ALPHANUMERIC.test(v) || !LETTER.test(v))
        return {
          path,
          message: 'must be 1 to 11 characters of A-Z, a-z, 0-9 and space, with at least one letter',
        };
      if (v.startsWith(' ') || v.endsWith(' '))
        return { path, message: 'must not start or end with a space' };
      if (ALPHANUMERIC_FORBIDDEN.has(country))
        return {
          path,
          message: `must not be alphanumeric: ${country} does not allow alphanumeric sender IDs; use a number or a messaging_service_sid`,
        };
      return null;
    case 'number':
      if (!E164.test(v) || !parsePhoneNumberFromString(v)?.isValid())
        return { path, message: 'must be a valid phone number in E.164 form, e.g. +905321234567' };
      return null;
    case 'messaging_service_sid':
      if (!MESSAGING_SERVICE_SID.test(v))
        return { path, message: 'must be a Twilio Messaging Service SID: MG and 32 lower-case hex digits' };
      return null;
  }
}

/**
 * The sender of a message to `country` (null: a non-geographic number): the country's own, else
 * the default ("*") unless that is alphanumeric and the country forbids it; null when none applies
 * (the provider's configured default). Defensive about what the column can hold.
 */
export function senderFor(senders: SenderSettings | null | undefined, country: string | null): string | null {
  if (!senders || typeof senders !== 'object') return null;
  const own = country === null ? undefined : valueOf(senders[country]);
  if (own) return own;
  const fallback = valueOf(senders[DEFAULT_SENDER]);
  if (!fallback) return null;
  if (country !== null && ALPHANUMERIC_FORBIDDEN.has(country) && senderKind(fallback) === 'alphanumeric')
    return null;
  return fallback;
}

function valueOf(entry: SenderEntry | undefined): string | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const v = entry.alphanumeric ?? entry.number ?? entry.messaging_service_sid;
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_STORED ? v : null;
}
