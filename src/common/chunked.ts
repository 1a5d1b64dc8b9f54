import { REDACTED_BODY_SQL_PATTERN, redactedBody } from '../core/body-retention';

/**
 * Runs `step` (which deletes or moves at most `chunk` rows and says how many) until a step does
 * fewer than `chunk`: a large purge as short transactions. Returns the total.
 */
export async function inChunks(chunk: number, step: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await step();
    total += n;
    if (n < chunk) return total;
  }
}

/** What a body-retention page statement answers: rows redacted, rows in the page, the page's oldest key. */
interface RedactionPage {
  n: number;
  page: number;
  at: string | null;
  id: string | null;
}

/**
 * Body retention's walk (docs/privacy.md#body-retention): runs `sql`, a statement over one page of
 * `chunk` rows, newest first, that redacts what it may and answers a RedactionPage, until a page
 * comes back short. Its parameters: $1 tenant id, $2 days, $3/$4 the keyset cursor (time and id of
 * the previous page's oldest row; null at first), $5 chunk, $6 the redacted body, $7 the pattern of
 * bodies already redacted. Returns how many rows it redacted.
 */
export async function redactInPages(
  query: (sql: string, params: unknown[]) => Promise<RedactionPage[]>,
  sql: string,
  tenantId: number | null,
  days: number,
  chunk: number,
): Promise<number> {
  let cursor: { at: string; id: string } | null = null;
  let total = 0;
  for (;;) {
    const [row] = await query(sql, [
      tenantId,
      days,
      cursor?.at ?? null,
      cursor?.id ?? null,
      chunk,
      redactedBody(days),
      REDACTED_BODY_SQL_PATTERN,
    ]);
    total += row.n;
    if (row.page < chunk || row.at === null || row.id === null) return total;
    cursor = { at: row.at, id: row.id };
  }
}
