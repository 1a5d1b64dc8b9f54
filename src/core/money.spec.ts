import { formatMoney, parseMoney, sumMicros, toAmount } from './money';

describe('money in micro-units', () => {
  it.each([
    ['0.0075', 7500],
    ['-0.00750', -7500],
    ['12', 12_000_000],
    ['0.0000005', 1],
    ['0.00000049', 0],
    [' 1.5 ', 1_500_000],
    [0.0083, 8300],
  ])('parses %p exactly', (raw, micros) => {
    expect(parseMoney(raw)).toBe(micros);
  });

  it.each(['', 'abc', '1e-3', '-1e30', 'NaN', '1.2.3', '99999999999'])('refuses %p', (raw) => {
    expect(parseMoney(raw)).toBeNull();
  });

  it('refuses non-finite numbers', () => {
    expect(parseMoney(Number.POSITIVE_INFINITY)).toBeNull();
    expect(parseMoney(-1e30)).toBeNull();
  });

  it('formats for numeric columns without float noise', () => {
    expect(formatMoney(7500)).toBe('0.0075');
    expect(formatMoney(-1_500_000)).toBe('-1.5');
    expect(formatMoney(0)).toBe('0');
    expect(toAmount(8300 * 3)).toBe(0.0249);
  });

  it('sums ten thousand fractional prices exactly, where floats drift', () => {
    const parts = Array.from({ length: 10_000 }, () => parseMoney('0.0079'));
    expect(formatMoney(sumMicros(parts) as number)).toBe('79');
    expect(Array.from({ length: 10_000 }, () => 0.0079).reduce((a, b) => a + b, 0)).not.toBe(79);
    expect(sumMicros([1, null])).toBeNull();
  });
});
