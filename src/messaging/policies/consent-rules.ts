/**
 * Consent for promotional texts, pure: the vocabulary, who needs it, the input rules, and how a
 * change is written for Turkey's İYS (İleti Yönetim Sistemi). Imports nothing from Nest or TypeORM.
 */

export const CONSENT_STATUSES = ['granted', 'revoked', 'unknown'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** Channels consent is kept for; `whatsapp` will join `sms`. */
export const CONSENT_CHANNELS = ['sms'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

export const PROMOTIONAL_CONSENT_SETTINGS = ['required', 'not_required'] as const;
export type PromotionalConsentSetting = (typeof PROMOTIONAL_CONSENT_SETTINGS)[number];

/** The source of a change made by a STOP or START text. */
export const SMS_KEYWORD_SOURCE = 'sms_keyword';
/** The source of a change given through the API without one. */
export const DEFAULT_CONSENT_SOURCE = 'api';
/** Why a promotional message is refused or skipped. */
export const NO_CONSENT = 'no_consent';

/** A number's consent on one channel; `at` null: never recorded (status `unknown`). */
export interface Consent {
  status: ConsentStatus;
  source: string | null;
  at: Date | null;
}

export const UNKNOWN_CONSENT: Consent = { status: 'unknown', source: null, at: null };

/**
 * Whether a promotional message to a number of `country` needs granted consent: the tenant's
 * `promotional_consent` when set; unset, only Turkish numbers (İYS) need it.
 */
export function consentRequired(
  setting: PromotionalConsentSetting | null | undefined,
  country: string | null,
): boolean {
  if (setting === 'required') return true;
  if (setting === 'not_required') return false;
  return country === 'TR';
}

/** A change as the caller wrote it, checked: the status, its source and when it was given. */
export interface ConsentInput {
  status: ConsentStatus;
  source: string;
  at: Date;
}

const DATE_TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;
const SOURCE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** A consent given in the future is refused; a few minutes of clock skew are not. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

/**
 * Reads `{sms: {status, source?, at?}}` (the `consent` of a directory entry). Returns the changes
 * by channel, or the first problem with the name of its field (under `field`; '': at the top).
 */
export function parseConsent(
  raw: unknown,
  field: string,
  now: Date,
):
  | { ok: true; value: Partial<Record<ConsentChannel, ConsentInput>> }
  | { ok: false; field: string; error: string } {
  const bad = (f: string, error: string) => ({ ok: false as const, field: f, error });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return bad(
      field || 'body',
      `${field || 'body'} must be an object by channel, e.g. {"sms": {"status": "granted"}}`,
    );
  const value: Partial<Record<ConsentChannel, ConsentInput>> = {};
  for (const [channel, entry] of Object.entries(raw as Record<string, unknown>)) {
    const f = field ? `${field}.${channel}` : channel;
    if (!(CONSENT_CHANNELS as readonly string[]).includes(channel))
      return bad(f, `${f}: the channel must be one of ${CONSENT_CHANNELS.join(', ')}`);
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      return bad(f, `${f} must be {"status", "source", "at"}`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e))
      if (!['status', 'source', 'at'].includes(key)) return bad(`${f}.${key}`, `${f}.${key} is not a field`);
    if (typeof e.status !== 'string' || !(CONSENT_STATUSES as readonly string[]).includes(e.status))
      return bad(`${f}.status`, `${f}.status must be one of ${CONSENT_STATUSES.join(', ')}`);
    let source = DEFAULT_CONSENT_SOURCE;
    if (e.source !== undefined && e.source !== null) {
      if (typeof e.source !== 'string' || !SOURCE.test(e.source))
        return bad(`${f}.source`, `${f}.source must be 1-64 letters, digits or _ . : -`);
      if (e.source === SMS_KEYWORD_SOURCE)
        return bad(`${f}.source`, `${f}.source ${SMS_KEYWORD_SOURCE} is kept for STOP and START texts`);
      source = e.source;
    }
    let at = now;
    if (e.at !== undefined && e.at !== null) {
      const d = typeof e.at === 'string' && DATE_TIME_WITH_OFFSET.test(e.at) ? new Date(e.at) : null;
      if (d === null || Number.isNaN(d.getTime()))
        return bad(`${f}.at`, `${f}.at must be an ISO 8601 date-time with an offset (Z or ±hh:mm)`);
      if (d.getUTCFullYear() < 2000 || d.getTime() > now.getTime() + FUTURE_SKEW_MS)
        return bad(`${f}.at`, `${f}.at must be after 2000 and not in the future`);
      at = d;
    }
    value[channel as ConsentChannel] = { status: e.status as ConsentStatus, source, at };
  }
  return { ok: true, value };
}

/** A change of the history, as the İYS export reads it. */
export interface ConsentChange {
  phoneNumber: string;
  channel: ConsentChannel;
  status: ConsentStatus;
  source: string;
  at: Date;
  /** An earlier change of the history granted it (İYS refuses a RET for an address it has no ONAY for). */
  grantedBefore: boolean;
}

/** The columns of the export, named as İYS names the fields of a consent. */
export const IYS_COLUMNS = [
  'recipient',
  'type',
  'source',
  'status',
  'consentDate',
  'recipientType',
  'retailerCode',
] as const;

/** İYS channel names: MESAJ is SMS (ARAMA: calls, EPOSTA: e-mail). */
const IYS_TYPE: Record<ConsentChannel, string> = { sms: 'MESAJ' };
/** İYS source codes are upper-case `HS_…` (hizmet sağlayıcı) names: passed through as recorded. */
const IYS_SOURCE_CODE = /^HS_[A-Z0-9_]{1,60}$/;

/**
 * İYS's source for ours: an İYS code recorded as the source is kept; a STOP/START text is
 * HS_MESAJ (given by message); anything else has no İYS equivalent and is left empty.
 */
export function iysSource(source: string): string {
  if (IYS_SOURCE_CODE.test(source)) return source;
  if (source === SMS_KEYWORD_SOURCE) return 'HS_MESAJ';
  return '';
}

/** `YYYY-MM-DD HH:mm:ss` in Turkey's time (UTC+3 all year since 2016), as İYS reads dates. */
export function iysDate(at: Date): string {
  return new Date(at.getTime() + 3 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * One change as an İYS row, or null when İYS would have nothing of it: a change to `unknown`
 * (İYS knows only ONAY and RET), a revoke with no grant before it in the history (İYS refuses a
 * RET for an address it holds no ONAY for), or a number outside Turkey (+90). recipientType is
 * always BIREYSEL (the directory does not know merchants); retailerCode is empty (no dealers).
 */
export function toIysRow(c: ConsentChange): Record<(typeof IYS_COLUMNS)[number], string> | null {
  if (c.status === 'unknown' || !c.phoneNumber.startsWith('+90')) return null;
  if (c.status === 'revoked' && !c.grantedBefore) return null;
  return {
    recipient: c.phoneNumber,
    type: IYS_TYPE[c.channel],
    source: iysSource(c.source),
    status: c.status === 'granted' ? 'ONAY' : 'RET',
    consentDate: iysDate(c.at),
    recipientType: 'BIREYSEL',
    retailerCode: '',
  };
}

/** The CSV of these changes (header first, CRLF lines), skipping what İYS has no row for. */
export function iysCsv(changes: ConsentChange[]): string {
  const lines = [IYS_COLUMNS.join(',')];
  for (const c of changes) {
    const row = toIysRow(c);
    if (row) lines.push(IYS_COLUMNS.map((k) => csvCell(row[k])).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
