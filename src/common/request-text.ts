import { FieldError } from './errors';

/**
 * What no request may carry, anywhere (body values and keys at any depth, query, path params):
 * - NUL (U+0000): PostgreSQL refuses it in text and jsonb, failing the whole multi-row INSERT a
 *   request shares with other tenants' requests;
 * - a lone UTF-16 surrogate: not encodable as UTF-8, refused by PostgreSQL the same way;
 * - the keys `__proto__` and `constructor`: never a field of ours, and a prototype-pollution
 *   vector for any code that merges objects;
 * - nesting deeper than MAX_DEPTH (recursive validators and serializers would overflow the stack).
 * Pure: `unsafeTextProblems` walks without recursion and reports fields like `metadata.a`, `numbers[0]`.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor']);
export const MAX_DEPTH = 32;
const MAX_PROBLEMS = 20;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, or null. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate (not valid Unicode)';
  return null;
}

function child(parent: string, key: string, isArray: boolean): string {
  if (isArray) return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** Every problem in `value` (a parsed body, query or params object), at most MAX_PROBLEMS. */
export function unsafeTextProblems(value: unknown, root = ''): FieldError[] {
  const out: FieldError[] = [];
  const add = (field: string, error: string) => {
    if (out.length < MAX_PROBLEMS) out.push({ field: field || 'body', errors: [error] });
  };
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: root, depth: 0 }];
  while (stack.length > 0 && out.length < MAX_PROBLEMS) {
    const { v, path, depth } = stack.pop() as { v: unknown; path: string; depth: number };
    if (typeof v === 'string') {
      const p = textProblem(v);
      if (p) add(path, `${path || 'value'} ${p}`);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_DEPTH) {
      add(path, `${path || 'body'} nests deeper than ${MAX_DEPTH} levels`);
      continue;
    }
    const isArray = Array.isArray(v);
    for (const key of Object.keys(v)) {
      const field = child(path, key, isArray);
      if (!isArray) {
        if (FORBIDDEN_KEYS.has(key)) {
          add(field, `${field} is not an accepted field`);
          continue;
        }
        const p = textProblem(key);
        if (p) {
          add(path, `a key of ${path || 'the body'} ${p}`);
          continue;
        }
      }
      stack.push({ v: (v as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return out;
}
