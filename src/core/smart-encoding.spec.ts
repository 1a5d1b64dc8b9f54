import { analyzeText } from './encoding';
import { smartEncode, smartEncodingMode, substitute } from './smart-encoding';

/** The message as sent under `mode`. */
const sent = (text: string, mode: 'off' | 'lookalikes' | 'transliterate') => smartEncode(text, mode).text;

describe('smartEncode, lookalikes', () => {
  it.each([
    ['curly apostrophe', 'It’s here', "It's here", 1],
    ['curly double quotes', '“Quoted”', '"Quoted"', 2],
    ['curly single quotes', '‘single’', "'single'", 2],
    ['low-9 and high-reversed quotes', '„German‟ ‚x‛', '"German" \'x\'', 4],
    ['guillemets', '«Guillemets» ‹x›', '"Guillemets" \'x\'', 4],
    ['acute accent and modifier apostrophe as apostrophes', 'don´t donʼt', "don't don't", 2],
    ['en dash', '10–12 May', '10-12 May', 1],
    ['em dash', 'Wait — now', 'Wait - now', 1],
    ['minus sign', '−5', '-5', 1],
    ['figure dash, hyphen, non-breaking hyphen, horizontal bar', 'a‒b‐c‑d―e', 'a-b-c-d-e', 4],
    ['no-break space', 'a\u00A0b', 'a b', 1],
    ['narrow no-break, medium mathematical and ideographic spaces', 'a\u202Fb\u205Fc\u3000d', 'a b c d', 3],
    ['tab', 'a\tb', 'a b', 1],
    ['zero-width space removed', 'a\u200Bb', 'ab', 1],
    ['zero-width non-joiner, joiner, word joiner removed', 'a\u200Cb\u200Dc\u2060d', 'abcd', 3],
    ['byte order mark removed', '\uFEFFHello', 'Hello', 1],
    ['soft hyphen removed', 'co\u00ADoperate', 'cooperate', 1],
    ['direction marks removed', 'a\u200Eb\u200Fc', 'abc', 2],
    ['line separator', 'a\u2028b', 'a\nb', 1],
    ['ellipsis', 'Wait…', 'Wait...', 1],
    ['bullets', '• one ◦ two ‣ three', '- one - two - three', 3],
    ['middle dot', '14:00 · Room A', '14:00 - Room A', 1],
    ['primes', '5′ 11″', '5\' 11"', 2],
    ['fullwidth letters, digits and punctuation', 'ＡＢＣ１２３！', 'ABC123!', 7],
    ['fullwidth brackets (GSM-7 extension)', '［ｘ］', '[x]', 3],
    ['fullwidth grave accent', 'ｘ｀', "x'", 2],
    ['fraction slash', '1⁄2', '1/2', 1],
    ['accent written as a combining mark, composed (é is GSM-7)', 'cafe\u0301', 'café', 1],
    [
      'several lookalikes in one message',
      'It’s 10–12 May… “bring a pen”',
      'It\'s 10-12 May... "bring a pen"',
      5,
    ],
  ])('%s', (_name, input, output, changed) => {
    const r = smartEncode(input, 'lookalikes');
    expect(r.text).toBe(output);
    expect(r.analysis).toEqual(analyzeText(output));
    expect(r.report).toMatchObject({ mode: 'lookalikes', changed, after: { encoding: 'GSM-7' } });
    expect(r.report?.before.encoding).toBe('UCS-2');
  });

  it.each([...Array.from({ length: 11 }, (_, i) => 0x2000 + i), 0x00a0, 0x202f, 0x205f, 0x3000, 0x1680])(
    'writes the space U+%s as a space',
    (cp) => {
      expect(sent(`a${String.fromCodePoint(cp)}b`, 'lookalikes')).toBe('a b');
    },
  );

  it('makes a message GSM-7 when its only non-GSM-7 characters are lookalikes', () => {
    const lookalikes = '‘’‚‛′‵‹›´`ʼ“”„‟″‶«»‐‑‒–—―−\u00A0\u2009\u202F\u3000\u200B\uFEFF…•◦‣∙·！～＂';
    for (const c of lookalikes) {
      const text = `Your class starts at 10${c}30 in room B`;
      expect(analyzeText(text).encoding).toBe('UCS-2');
      expect(smartEncode(text, 'lookalikes').analysis.encoding).toBe('GSM-7');
    }
  });

  it('leaves Turkish letters alone (they are transliterate’s)', () => {
    expect(smartEncode('Hoş geldiniz', 'lookalikes')).toMatchObject({ text: 'Hoş geldiniz', report: null });
  });

  it('does not cut a 70-character UCS-2 message into two GSM-7 segments', () => {
    // 53 ellipses are 159 septets (one segment); 54 are 162 (two): as written, one UCS-2 segment.
    expect(smartEncode('…'.repeat(53), 'lookalikes').report).toMatchObject({
      before: { encoding: 'UCS-2', segments: 1 },
      after: { encoding: 'GSM-7', segments: 1 },
    });
    expect(smartEncode('…'.repeat(54), 'lookalikes')).toMatchObject({ text: '…'.repeat(54), report: null });
  });

  it('sends a 2-segment UCS-2 notice with curly quotes as 1 GSM-7 segment', () => {
    const text =
      'Reminder: your assessment “Safety basics” is due on 15 March – please submit it before 17:00. Thanks!';
    expect(analyzeText(text)).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(smartEncode(text, 'lookalikes').report).toEqual({
      mode: 'lookalikes',
      changed: 3,
      before: { encoding: 'UCS-2', segments: 2 },
      after: { encoding: 'GSM-7', segments: 1 },
    });
  });
});

describe('smartEncode, transliterate', () => {
  it.each([
    ['Turkish greeting', 'Hoş geldiniz', 'Hos geldiniz', 1],
    ['the Turkish letters outside GSM-7', 'şğıİçŞĞ', 'sgiIcSG', 7],
    [
      'keeps the Turkish letters GSM-7 has (Ç ü ö Ü Ö)',
      'Çok güzel, Ömer! Ünlü şarkı',
      'Çok güzel, Ömer! Ünlü sarki',
      2,
    ],
    ['accented letters to the base letter', 'Canción naïve', 'Cancion naive', 2],
    ['keeps the accents GSM-7 has', 'café à Zürich, Ñandú', 'café à Zürich, Ñandu', 1],
    ['a letter keeps the accent GSM-7 has of two (ǘ → ü)', 'ǘ', 'ü', 1],
    ['Polish', 'Łódź', 'Lodz', 3],
    ['ligatures and special letters', 'Œuvre ﬁne þorn', 'OEuvre fine thorn', 3],
    ['lira sign', '50 ₺', '50 TL', 1],
    ['decomposed Turkish letter (s + combining cedilla)', 's\u0327u', 'su', 1],
    ['Turkish letters and lookalikes together', 'Hoş geldiniz — “Ayşe”', 'Hos geldiniz - "Ayse"', 5],
  ])('%s', (_name, input, output, changed) => {
    const r = smartEncode(input, 'transliterate');
    expect(r.text).toBe(output);
    expect(r.report).toMatchObject({ mode: 'transliterate', changed, after: { encoding: 'GSM-7' } });
  });

  it('sends a 2-segment Turkish reminder as 1 GSM-7 segment', () => {
    const text =
      'Hatırlatma: Ayşe Hanım, yarın saat 14:00’te Eğitim Odası A’da randevunuz var. Lütfen erken gelin.';
    expect(Array.from(text)).toHaveLength(97);
    const r = smartEncode(text, 'transliterate');
    expect(r.text).toBe(
      "Hatirlatma: Ayse Hanim, yarin saat 14:00'te Egitim Odasi A'da randevunuz var. Lütfen erken gelin.",
    );
    expect(r.report).toEqual({
      mode: 'transliterate',
      changed: 8,
      before: { encoding: 'UCS-2', segments: 2 },
      after: { encoding: 'GSM-7', segments: 1 },
    });
    // Under lookalikes the Turkish letters keep it UCS-2, so nothing is changed at all.
    expect(smartEncode(text, 'lookalikes')).toMatchObject({ text, report: null });
  });
});

describe('smartEncode: what it leaves as written', () => {
  it.each([
    ['an emoji (no GSM-7 form)', 'It’s done 👍', 'transliterate'],
    ['Greek letters outside GSM-7', 'Καλημέρα — hi', 'transliterate'],
    ['Cyrillic', 'Привет “друг”', 'transliterate'],
    ['Chinese', '你好…', 'transliterate'],
    ['Turkish under lookalikes', 'Yarın’ görüşürüz…', 'lookalikes'],
    ['any text when off', 'It’s here', 'off'],
    ['a text that would become blank', '\u200B', 'lookalikes'],
    ['a text that would become blank (spaces)', '\u200B\u00A0\u3000', 'lookalikes'],
  ] as const)('%s', (_name, input, mode) => {
    expect(smartEncode(input, mode)).toEqual({ text: input, analysis: analyzeText(input), report: null });
  });

  it.each(['lookalikes', 'transliterate'] as const)('never touches a GSM-7 text (%s)', (mode) => {
    const gsm = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà^{}\\[]~|€';
    expect(smartEncode(gsm, mode)).toEqual({ text: gsm, analysis: analyzeText(gsm), report: null });
  });

  it('leaves characters without a mapping as they are', () => {
    expect(substitute('It’s 👍 — ok', 'lookalikes')).toEqual({ text: "It's 👍 - ok", changed: 2 });
    expect(substitute('Ayşe ❤️ Привет', 'transliterate')).toEqual({ text: 'Ayse ❤️ Привет', changed: 1 });
    expect(substitute('Ayşe ❤️', 'lookalikes')).toEqual({ text: 'Ayşe ❤️', changed: 0 });
  });
});

describe('smartEncodingMode', () => {
  it.each([
    [undefined, 'general_notification', false, 'lookalikes'],
    [null, 'appointment_reminder', false, 'lookalikes'],
    ['bogus', 'general_notification', false, 'lookalikes'],
    ['off', 'general_notification', false, 'off'],
    ['transliterate', 'welcome_message', false, 'transliterate'],
    ['transliterate', 'password_reset', false, 'off'],
    ['lookalikes', '2fa_code', false, 'off'],
    ['transliterate', 'appointment_reminder', true, 'off'],
  ])('setting %s, type %s, exact %s: %s', (setting, messageType, exact, mode) => {
    expect(smartEncodingMode(setting, { messageType, exact })).toBe(mode);
  });
});
