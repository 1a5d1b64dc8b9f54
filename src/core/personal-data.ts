/**
 * A phone number's data-subject requests (docs/privacy.md#data-subject-requests): what replaces an
 * erased value, the redaction of a JSON payload, and the part each owner of a table plays. Privacy
 * runs the request; each owner names the statements on its own tables (`PersonalDataPart`).
 */

/** What replaces an erased number in every column that held it. */
export const ERASED_NUMBER = 'erased';
/** What replaces an erased body. */
export const ERASED_BODY = '[erased]';

/** Keys whose string value is a text someone wrote (an inbound body, a rendered message). */
const BODY_KEYS = /^(body|text|message|content)$/i;

/**
 * A JSON value with `phone` redacted wherever a string holds it, and, in an object that named the
 * number anywhere, the texts (`body`, `text`, `message`, `content`) replaced. Pure. Returns the
 * value unchanged (same reference) when the number is not in it.
 */
export function redactNumber(value: unknown, phone: string): unknown {
  if (!JSON.stringify(value ?? null).includes(phone)) return value;
  return walk(value, phone);
}

function walk(v: unknown, phone: string): unknown {
  if (typeof v === 'string') return v.split(phone).join(ERASED_NUMBER);
  if (Array.isArray(v)) return v.map((x) => redactNumber(x, phone));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (BODY_KEYS.test(k) && typeof x === 'string') out[k] = ERASED_BODY;
    else out[k] = redactNumber(x, phone);
  }
  return out;
}

/** Where a part's statements run: the erasure's transaction, or the export's reads. */
export interface PersonalDataStatements {
  /** The rows a statement returns. */
  rows<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T[]>;
  /** How many rows an UPDATE or DELETE changed. */
  count(sql: string, params: unknown[]): Promise<number>;
}

/**
 * One owner's share of a number's data-subject requests: the statements on the tables it owns.
 * Privacy calls every part, in one transaction for an erasure (twice: a settle pass for a racing
 * write), on the read replica when one serves reads for an export.
 */
export interface PersonalDataPart {
  /**
   * Redacts or deletes the number's rows of these tenants (with `allTenants`, rows of no tenant
   * too); how many, by the name the erasure's counts give them.
   */
  erase(
    tx: PersonalDataStatements,
    tenantIds: number[],
    phone: string,
    allTenants: boolean,
  ): Promise<Record<string, number>>;
  /** The number's rows of one tenant, by the name the export's file gives them. */
  export(reads: PersonalDataStatements, tenantId: number, phone: string): Promise<Record<string, unknown[]>>;
}
