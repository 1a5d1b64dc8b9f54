import { arrayLiterals } from './array-literals';

// node-postgres's own conversion of a parameter (what it sends for an array), untyped in @types/pg.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (v: unknown) => unknown };

describe('arrayLiterals', () => {
  const tricky = [
    'plain',
    'a "quoted" word',
    'back\\slash \\" both',
    '{braces}, commas, and spaces',
    'NULL',
    '',
    'Türkçe ğüşıöç — “curly” 😀',
    'line\nbreak\ttab',
  ];

  it('writes strings, numbers, booleans and NULLs as node-postgres writes an array parameter', async () => {
    const columns = [tricky, [1, 0, -7, 2.5], [true, false], [null, 'x', undefined, null]];
    const literals = await arrayLiterals(columns);
    expect(literals).toEqual(columns.map((c) => prepareValue(c)));
  });

  it('writes a Date as its instant', async () => {
    const at = new Date('2026-12-06T22:51:07.123Z');
    expect(await arrayLiterals([[at, null]])).toEqual(['{"2026-12-06T22:51:07.123Z",NULL}']);
  });

  it('refuses an element it would not write as node-postgres does', async () => {
    await expect(arrayLiterals([[{ a: 1 }]])).rejects.toThrow(TypeError);
    await expect(arrayLiterals([[['nested']]])).rejects.toThrow(TypeError);
  });

  it('keeps every element of a long column, in order', async () => {
    const long = Array.from({ length: 20_000 }, (_, i) => `+1202555${String(i % 10_000).padStart(4, '0')}`);
    expect(await arrayLiterals([long])).toEqual([prepareValue(long)]);
  });
});
