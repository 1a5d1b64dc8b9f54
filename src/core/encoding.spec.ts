import { analyzeText } from '../core/encoding';

describe('analyzeText', () => {
  it.each([
    ['empty', '', 'GSM-7', 0],
    ['160 GSM characters', 'a'.repeat(160), 'GSM-7', 1],
    ['161 GSM characters', 'a'.repeat(161), 'GSM-7', 2],
    ['306 GSM characters', 'a'.repeat(306), 'GSM-7', 2],
    ['307 GSM characters', 'a'.repeat(307), 'GSM-7', 3],
    ['80 extension characters (160 septets)', '{'.repeat(80), 'GSM-7', 1],
    ['€ counts two', '€'.repeat(81), 'GSM-7', 2],
    ['Ç is GSM, ç is not', 'Ç'.repeat(160), 'GSM-7', 1],
    ['70 UCS-2 characters', 'ç'.repeat(70), 'UCS-2', 1],
    ['71 UCS-2 characters', 'ç'.repeat(71), 'UCS-2', 2],
    ['134 UCS-2 characters', 'ş'.repeat(134), 'UCS-2', 2],
    ['135 UCS-2 characters', 'ş'.repeat(135), 'UCS-2', 3],
    ['35 emoji (70 code units)', '👍'.repeat(35), 'UCS-2', 1],
    ['36 emoji', '👍'.repeat(36), 'UCS-2', 2],
  ])('%s', (_name, text, encoding, segments) => {
    expect(analyzeText(text)).toMatchObject({ encoding, segments });
  });

  it('counts Turkish letters as UCS-2', () => {
    for (const c of ['ç', 'ş', 'ğ', 'ı', 'İ', 'Ş', 'Ğ']) expect(analyzeText(`a${c}`).encoding).toBe('UCS-2');
  });

  it('moves an extension character that would straddle a 153-septet boundary to the next part', () => {
    // 152 plain + '{' (2 septets) would be 154 in part one: it must start part two.
    const text = 'a'.repeat(152) + '{' + 'a'.repeat(10);
    expect(analyzeText(text)).toMatchObject({ units: 164, segments: 2 });
    expect(analyzeText('a'.repeat(152) + '{'.repeat(77)).segments).toBe(3); // 152 + 154 septets, split to 3 parts
  });

  it('never splits a surrogate pair across UCS-2 parts', () => {
    // 66 units + one emoji (2 units) cannot share a 67-unit part.
    expect(analyzeText('ç'.repeat(66) + '👍' + 'ç'.repeat(60)).segments).toBe(2);
    expect(analyzeText('ç'.repeat(66) + '👍'.repeat(34)).segments).toBe(3);
  });
});
