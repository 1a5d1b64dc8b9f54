/**
 * Checks on one recipient row of a directory upload. Pure: a bad row is rejected by name (its
 * reason), the others are stored. Phone numbers are normalised by the caller (src/phone).
 */
import { LANGUAGES, Language } from '../core/message-types';

export const MAX_RECIPIENTS_PER_PUT = 10_000;
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_LABELS = 50;
const MAX_ATTRIBUTES = 50;
const MAX_ATTRIBUTE_LENGTH = 200;

export interface RecipientRow {
  userId: string;
  phoneNumber: string;
  roles: string[];
  language: Language | null;
  timezone: string | null;
  tags: string[];
  attributes: Record<string, string | number>;
  active: boolean;
}

export type RecipientReject = { user_id: string | null; reason: string };

const zones = new Map<string, boolean>();
/** An IANA zone name the runtime knows (cached). */
export function isTimeZone(zone: string): boolean {
  const known = zones.get(zone);
  if (known !== undefined) return known;
  let ok = zone.length <= 64;
  try {
    if (ok) new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    ok = false;
  }
  zones.set(zone, ok);
  return ok;
}

function labels(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_LABELS) return null;
  if (!v.every((x) => typeof x === 'string' && LABEL.test(x))) return null;
  return [...new Set(v as string[])];
}

function attributes(v: unknown): Record<string, string | number> | null {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) return null;
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_ATTRIBUTES) return null;
  const out: Record<string, string | number> = {};
  for (const [k, x] of entries) {
    if (!NAME.test(k) || k.length > 64) return null;
    if (typeof x === 'number' ? !Number.isFinite(x) : typeof x !== 'string') return null;
    if (String(x).length > MAX_ATTRIBUTE_LENGTH) return null;
    out[k] = x as string | number;
  }
  return out;
}

/**
 * One uploaded row → a row to store, or the reason it is refused. `toE164` normalises a number
 * (null when it is not a valid number).
 */
export function checkRecipient(
  raw: unknown,
  toE164: (phone: string) => string | null,
): { row: RecipientRow } | { reject: RecipientReject } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { reject: { user_id: null, reason: 'not_an_object' } };
  const r = raw as Record<string, unknown>;
  const userId = typeof r.user_id === 'number' ? String(r.user_id) : r.user_id;
  if (typeof userId !== 'string' || !USER_ID.test(userId))
    return {
      reject: { user_id: typeof userId === 'string' ? userId.slice(0, 64) : null, reason: 'invalid_user_id' },
    };
  const no = (reason: string) => ({ reject: { user_id: userId, reason } });
  const phone = typeof r.phone_number === 'string' ? toE164(r.phone_number) : null;
  if (phone === null) return no('invalid_phone');
  const roles = labels(r.roles);
  if (roles === null) return no('invalid_roles');
  const tags = labels(r.tags);
  if (tags === null) return no('invalid_tags');
  let language: Language | null = null;
  if (r.language !== undefined && r.language !== null) {
    if (!(LANGUAGES as readonly unknown[]).includes(r.language)) return no('invalid_language');
    language = r.language as Language;
  }
  let timezone: string | null = null;
  if (r.timezone !== undefined && r.timezone !== null) {
    if (typeof r.timezone !== 'string' || !isTimeZone(r.timezone)) return no('invalid_timezone');
    timezone = r.timezone;
  }
  const attrs = attributes(r.attributes);
  if (attrs === null) return no('invalid_attributes');
  if (r.active !== undefined && typeof r.active !== 'boolean') return no('invalid_active');
  return {
    row: {
      userId,
      phoneNumber: phone,
      roles,
      language,
      timezone,
      tags,
      attributes: attrs,
      active: r.active !== false,
    },
  };
}

/** Every row checked; a user_id given twice keeps its last row (the upsert sees each id once). */
export function checkRecipients(
  raws: unknown[],
  toE164: (phone: string) => string | null,
): { rows: RecipientRow[]; rejected: RecipientReject[] } {
  const byId = new Map<string, RecipientRow>();
  const rejected: RecipientReject[] = [];
  for (const raw of raws) {
    const c = checkRecipient(raw, toE164);
    if ('reject' in c) rejected.push(c.reject);
    else {
      byId.delete(c.row.userId);
      byId.set(c.row.userId, c.row);
    }
  }
  return { rows: [...byId.values()], rejected };
}
