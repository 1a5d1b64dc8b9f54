import { metadataProblem } from './metadata';

const nested = (depth: number): Record<string, unknown> => {
  let o: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) o = { n: o };
  return o;
};

describe('metadata limits', () => {
  it('accepts a small object, up to 5 levels and 50 keys', () => {
    expect(metadataProblem(undefined)).toBeNull();
    expect(metadataProblem({ appointment_id: 123 })).toBeNull();
    expect(metadataProblem(nested(5))).toBeNull();
    expect(
      metadataProblem(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]))),
    ).toBeNull();
  });

  it('refuses depth 6, a 5,000-deep object without overflowing, 51 keys and over 4 KiB', () => {
    expect(metadataProblem(nested(6))).toContain('deeper than 5');
    expect(metadataProblem(nested(5000))).toContain('deeper than 5');
    expect(metadataProblem({ a: [[[[[{ b: 1 }]]]]] })).toContain('deeper than 5');
    expect(metadataProblem(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])))).toContain(
      'more than 50 keys',
    );
    expect(
      metadataProblem({
        a: { b: {}, c: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, i])) },
      }),
    ).toContain('more than 50 keys');
    expect(metadataProblem({ big: 'x'.repeat(4090) })).toContain('at most 4096');
    expect(metadataProblem({ big: 'x'.repeat(4080) })).toBeNull();
    expect(metadataProblem([1])).toBe('metadata must be a JSON object');
  });
});
