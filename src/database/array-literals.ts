import { sliced } from '../common/sliced';

/** One element as node-postgres writes it in an array parameter: NULL, or quoted and escaped. */
function element(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  let text: string;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') text = String(v);
  else if (v instanceof Date) text = v.toISOString();
  else throw new TypeError(`an array parameter element must be a scalar or a Date, not ${typeof v}`);
  return '"' + text.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/**
 * The PostgreSQL array literals (`{"a","b",NULL}`) of a statement's array parameters, built in
 * slices (`sliced`). node-postgres turns an array parameter into this same text, but in one
 * synchronous pass when the query is sent: for a 10,000-number bulk's insert (32 columns) that was
 * one of the longest stretches the api held its event loop, 50–200 ms. Passed as text to a
 * `$n::type[]` parameter, each is read by the type's input function, as node-postgres's own
 * literal is; a Date is written as its ISO instant (node-postgres writes local time with the
 * offset: the same instant for a timestamptz).
 */
export async function arrayLiterals(columns: readonly (readonly unknown[])[]): Promise<string[]> {
  const literals: string[] = [];
  for (const column of columns) {
    const parts = new Array<string>(column.length);
    await sliced(column.length, (i) => {
      parts[i] = element(column[i]);
    });
    literals.push('{' + parts.join(',') + '}');
  }
  return literals;
}
