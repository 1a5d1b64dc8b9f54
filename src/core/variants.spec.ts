import { pickVariant, variantPosition } from './variants';

const seed = (n: number, testId = 'test-1') => ({
  tenantId: 7,
  templateId: 'welcome',
  testId,
  phoneNumber: `+1202555${String(n).padStart(4, '0')}`,
});

describe('template variants: the stable split', () => {
  it('splits 10,000 recipients within 1 % of the weights (50/50 and 70/20/10)', () => {
    for (const variants of [
      [
        { key: 'A', weight: 50 },
        { key: 'B', weight: 50 },
      ],
      [
        { key: 'A', weight: 70 },
        { key: 'B', weight: 20 },
        { key: 'C', weight: 10 },
      ],
    ]) {
      const counts = new Map<string, number>();
      for (let i = 0; i < 10_000; i++) {
        const v = pickVariant(variants, seed(i));
        counts.set(v.key, (counts.get(v.key) ?? 0) + 1);
      }
      const total = variants.reduce((s, v) => s + v.weight, 0);
      for (const v of variants) {
        const share = (counts.get(v.key) ?? 0) / 10_000;
        expect(Math.abs(share - v.weight / total)).toBeLessThan(0.01);
      }
    }
  });

  it('gives a recipient the same variant every time (a resend)', () => {
    const variants = [
      { key: 'A', weight: 1 },
      { key: 'B', weight: 1 },
    ];
    for (let i = 0; i < 100; i++)
      expect(pickVariant(variants, seed(i)).key).toBe(pickVariant(variants, seed(i)).key);
  });

  it('reshuffles for a new test and stays in [0, 1)', () => {
    let moved = 0;
    for (let i = 0; i < 1000; i++) {
      const a = variantPosition(seed(i, 'test-1'));
      const b = variantPosition(seed(i, 'test-2'));
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThan(1);
      if (a < 0.5 !== b < 0.5) moved++;
    }
    expect(moved).toBeGreaterThan(400);
    expect(moved).toBeLessThan(600);
  });

  it('never picks a variant of weight zero share beyond its slice (one variant takes all)', () => {
    expect(pickVariant([{ key: 'only', weight: 3 }], seed(1)).key).toBe('only');
  });
});
