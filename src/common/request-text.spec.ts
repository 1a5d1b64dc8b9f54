import { MAX_DEPTH, textProblem, unsafeTextProblems } from './request-text';

describe('unsafeTextProblems', () => {
  it('accepts well-formed text, emoji (surrogate pairs) and ordinary keys', () => {
    expect(unsafeTextProblems({ a: 'Merhaba 👋', b: ['ğüş', { 'kéy 🎉': 1 }], prototype: null })).toEqual([]);
  });

  it('names NUL and lone surrogates by field, at any depth', () => {
    expect(unsafeTextProblems({ message: 'x\u0000' })).toEqual([
      { field: 'message', errors: ['message contains a NUL character (U+0000)'] },
    ]);
    expect(unsafeTextProblems({ m: { a: ['ok', 'x\udc00'] } }).map((p) => p.field)).toEqual(['m.a[1]']);
    expect(textProblem('\ud83d')).toMatch(/unpaired/);
    expect(textProblem('\ud83d\ude00')).toBeNull();
  });

  it('names the object whose key is bad, and refuses __proto__ and constructor keys', () => {
    expect(unsafeTextProblems({ metadata: { 'k\u0000': 1 } }).map((p) => p.field)).toEqual(['metadata']);
    const parsed: unknown = JSON.parse('{"metadata":{"a":{"__proto__":{"x":1}},"constructor":1}}');
    expect(
      unsafeTextProblems(parsed)
        .map((p) => p.field)
        .sort(),
    ).toEqual(['metadata.a.__proto__', 'metadata.constructor']);
  });

  it('refuses nesting deeper than MAX_DEPTH without recursing', () => {
    const body: unknown = JSON.parse(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
    const problems = unsafeTextProblems(body);
    expect(problems).toHaveLength(1);
    expect(problems[0].errors[0]).toContain(`nests deeper than ${MAX_DEPTH} levels`);
  });
});
