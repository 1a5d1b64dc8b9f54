import { splitChanged, variantProblems } from './variant-rules';

const template = { content: { en: 'Hi {{name}}', tr: 'Merhaba {{name}}' }, variables: ['name'] };
const v = (
  key: string,
  weight: number,
  en = `${key} {{name}}`,
  tr: string | null = `${key} {{name}} tr`,
): { key: string; weight: number; content: Record<string, string> } => ({
  key,
  weight,
  content: tr === null ? { en } : { en, tr },
});
const fields = (vs: ReturnType<typeof v>[]) => variantProblems(vs, template).map((p) => p.field);

describe('variant declarations', () => {
  it('accepts two to ten variants with unique keys, positive weights and the same placeholders', () => {
    expect(fields([v('A', 50), v('B', 50)])).toEqual([]);
  });

  it('names each problem by its field', () => {
    expect(fields([v('A', 1)])).toEqual(['variants']);
    expect(fields([v('A', 1), v('A', 1)])).toEqual(['variants[1].key']);
    expect(fields([v('A', 0), v('B', 1.5)])).toEqual(['variants[0].weight', 'variants[1].weight']);
    expect(fields([v('A b', 1), v('B', 1)])).toEqual(['variants[0].key']);
    expect(fields([v('A', 1, 'Hi {{nmae}}'), v('B', 1)])).toEqual(['variants[0].content_en']);
    expect(fields([v('A', 1, 'A {{name}}', null), v('B', 1)])).toEqual(['variants[0].content_tr']);
  });

  it('refuses a language the template does not have', () => {
    const enOnly = { content: { en: 'Hi {{name}}' }, variables: ['name'] };
    expect(variantProblems([v('A', 1), v('B', 1, 'B {{name}}', null)], enOnly).map((p) => p.field)).toEqual([
      'variants[0].content_tr',
    ]);
  });

  it('starts a new test only when keys or weights change', () => {
    expect(splitChanged([v('A', 1), v('B', 1)], [v('A', 1, 'other {{name}}'), v('B', 1)])).toBe(false);
    expect(splitChanged([v('A', 1), v('B', 1)], [v('A', 2), v('B', 1)])).toBe(true);
    expect(splitChanged(null, [v('A', 1), v('B', 1)])).toBe(true);
  });
});
