/**
 * Smart encoding (a tenant's `smart_encoding` setting): characters outside GSM-7 that have a GSM-7
 * form are written in that form, so that a curly apostrophe does not send a whole message as UCS-2
 * (70 characters a segment instead of 160). Pure.
 *
 * - `off`: the text is sent as written.
 * - `lookalikes` (the default): typographic look-alikes only — curly quotes and primes, dashes and
 *   the minus sign, odd spaces (no-break, thin, ideographic…), zero-width and other invisible
 *   characters (removed), the ellipsis, bullets, fullwidth forms, and a letter written as a base
 *   letter plus a combining accent when GSM-7 has the accented letter.
 * - `transliterate`: also letters: Turkish ş ğ ı İ ç Ş Ğ, accented letters GSM-7 lacks (to the
 *   nearest GSM-7 letter: á → a, ǘ → ü), ligatures and letters such as ł, œ, ð, and ₺ → TL.
 *
 * All or nothing: only characters outside GSM-7 are ever touched, and the replacements are made
 * only when they make the whole message GSM-7 in no more segments than as written. Otherwise the
 * message is sent exactly as written: replacing a few characters of a message that stays UCS-2
 * would change the text and save nothing. A text that would become blank is left as written.
 */
import { analyzeText, Encoding, isGsm7, TextAnalysis } from './encoding';
import { CODE_MESSAGE_TYPES, MessageType } from './message-types';

export const SMART_ENCODING_MODES = ['off', 'lookalikes', 'transliterate'] as const;
export type SmartEncodingMode = (typeof SMART_ENCODING_MODES)[number];
export const DEFAULT_SMART_ENCODING: SmartEncodingMode = 'lookalikes';

/** What smart encoding did to a message: present only when it changed the text. */
export interface SmartEncodingReport {
  mode: Exclude<SmartEncodingMode, 'off'>;
  /** Characters replaced or removed. */
  changed: number;
  /** The text as written. */
  before: { encoding: Encoding; segments: number };
  /** The text as sent. */
  after: { encoding: Encoding; segments: number };
}

export interface SmartEncoded {
  /** The text to send. */
  text: string;
  /** Of `text`. */
  analysis: TextAnalysis;
  /** null: sent as written. */
  report: SmartEncodingReport | null;
}

/**
 * The mode that applies to a message: the tenant's setting (default `lookalikes`), but `off` for
 * codes (`password_reset`, `2fa_code`) and for a template marked `exact`.
 */
export function smartEncodingMode(
  setting: unknown,
  message: { messageType: MessageType; exact?: boolean | null },
): SmartEncodingMode {
  if (message.exact === true || CODE_MESSAGE_TYPES.includes(message.messageType)) return 'off';
  return isSmartEncodingMode(setting) ? setting : DEFAULT_SMART_ENCODING;
}

export function isSmartEncodingMode(value: unknown): value is SmartEncodingMode {
  return (SMART_ENCODING_MODES as readonly unknown[]).includes(value);
}

/** The text as it is sent under `mode` (see the rule above), measured, and what changed. */
export function smartEncode(text: string, mode: SmartEncodingMode): SmartEncoded {
  const before = analyzeText(text);
  const asWritten = { text, analysis: before, report: null };
  if (mode === 'off' || before.encoding === 'GSM-7') return asWritten;
  const { text: replaced, changed } = substitute(text, mode);
  if (changed === 0 || replaced.trim() === '') return asWritten;
  const after = analyzeText(replaced);
  if (after.encoding !== 'GSM-7' || after.segments > before.segments) return asWritten;
  return {
    text: replaced,
    analysis: after,
    report: {
      mode,
      changed,
      before: { encoding: before.encoding, segments: before.segments },
      after: { encoding: after.encoding, segments: after.segments },
    },
  };
}

/**
 * Every character outside GSM-7 that has a GSM-7 form under `mode` written in that form; the
 * others left as they are (the all-or-nothing rule is `smartEncode`'s). `changed` counts the
 * characters replaced or removed (a letter plus its combining accents counts one).
 */
export function substitute(
  text: string,
  mode: Exclude<SmartEncodingMode, 'off'>,
): { text: string; changed: number } {
  let changed = 0;
  const out = text.replace(CLUSTER, (cluster) => {
    if (isGsm7(cluster)) return cluster;
    const r = replacement(cluster, mode);
    if (r === null) return cluster;
    changed += 1;
    return r;
  });
  return { text: out, changed };
}

/** A character with the combining marks that follow it (or marks with nothing before them). */
const CLUSTER = /\P{M}\p{M}*|\p{M}+/gu;

function replacement(cluster: string, mode: Exclude<SmartEncodingMode, 'off'>): string | null {
  // A base letter plus combining accents that GSM-7 has as one letter (e + ◌́ → é).
  const composed = cluster.normalize('NFC');
  if (isGsm7(composed)) return composed;
  if (Array.from(composed).length === 1) {
    const look = lookalike(composed);
    if (look !== null) return look;
    if (mode === 'transliterate') return transliteration(composed);
    return null;
  }
  return mode === 'transliterate' ? withoutAccents(composed) : null;
}

/** Code point ranges as strings: [from, to] inclusive. */
function range(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i));
}

const LOOKALIKES = new Map<string, string>([
  // single quotes, apostrophes, primes
  ...[
    '\u2018',
    '\u2019',
    '\u201A',
    '\u201B',
    '\u2032',
    '\u2035',
    '\u2039',
    '\u203A',
    '\u00B4',
    '\u0060',
    '\u02BC',
  ].map((c) => [c, "'"] as const),
  // double quotes, double primes, guillemets
  ...['\u201C', '\u201D', '\u201E', '\u201F', '\u2033', '\u2036', '\u00AB', '\u00BB'].map(
    (c) => [c, '"'] as const,
  ),
  ['\u2034', "'''"], // triple prime
  // hyphens and dashes: hyphen, non-breaking hyphen, figure dash, en, em, horizontal bar, minus, small forms
  ...['\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\uFE58', '\uFE63'].map(
    (c) => [c, '-'] as const,
  ),
  // spaces: tab, no-break, ogham, en quad … hair, narrow no-break, medium mathematical, ideographic
  ...['\t', '\u00A0', '\u1680', ...range(0x2000, 0x200a), '\u202F', '\u205F', '\u3000'].map(
    (c) => [c, ' '] as const,
  ),
  // line and paragraph separators, next line
  ...['\u2028', '\u2029', '\u0085'].map((c) => [c, '\n'] as const),
  // invisible: soft hyphen, zero-width space / non-joiner / joiner, word joiner, BOM, Mongolian
  // vowel separator, direction marks, embeddings and isolates
  ...['\u00AD', '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u180E', '\u200E', '\u200F'].map(
    (c) => [c, ''] as const,
  ),
  ...[...range(0x202a, 0x202e), ...range(0x2066, 0x2069)].map((c) => [c, ''] as const),
  ['\u2026', '...'], // ellipsis
  ['\u2025', '..'], // two-dot leader
  // bullets and the middle dot
  ...['\u2022', '\u2023', '\u25E6', '\u2043', '\u2219', '\u25CF', '\u25AA', '\u00B7'].map(
    (c) => [c, '-'] as const,
  ),
  ['\u2044', '/'], // fraction slash
  ['\u2215', '/'], // division slash
  ['\u02C6', '^'], // modifier circumflex
  ['\u02DC', '~'], // small tilde
  ['\u223C', '~'], // tilde operator
  ['\u203C', '!!'],
  ['\u2047', '??'],
  ['\u2048', '?!'],
  ['\u2049', '!?'],
  ['\uFFE1', '£'], // fullwidth pound
  ['\uFFE5', '¥'], // fullwidth yen
]);

function lookalike(c: string): string | null {
  const mapped = LOOKALIKES.get(c);
  if (mapped !== undefined) return mapped;
  const cp = c.codePointAt(0) as number;
  if (cp >= 0xff01 && cp <= 0xff5e) {
    // Fullwidth ASCII (！ … ～) → ASCII; the fullwidth grave accent becomes an apostrophe.
    const ascii = String.fromCodePoint(cp - 0xfee0);
    return isGsm7(ascii) ? ascii : (LOOKALIKES.get(ascii) ?? null);
  }
  return null;
}

/** Letters that no accent stripping reaches (transliterate only). */
const LETTERS = new Map<string, string>([
  ['ı', 'i'],
  ['ł', 'l'],
  ['Ł', 'L'],
  ['đ', 'd'],
  ['Đ', 'D'],
  ['ð', 'd'],
  ['Ð', 'D'],
  ['þ', 'th'],
  ['Þ', 'Th'],
  ['œ', 'oe'],
  ['Œ', 'OE'],
  ['ĳ', 'ij'],
  ['Ĳ', 'IJ'],
  ['ŀ', 'l'],
  ['Ŀ', 'L'],
  ['ħ', 'h'],
  ['Ħ', 'H'],
  ['ŧ', 't'],
  ['Ŧ', 'T'],
  ['ſ', 's'],
  ['ƒ', 'f'],
  ['ẞ', 'SS'],
  ['ﬀ', 'ff'],
  ['ﬁ', 'fi'],
  ['ﬂ', 'fl'],
  ['ﬃ', 'ffi'],
  ['ﬄ', 'ffl'],
  ['ﬅ', 'st'],
  ['ﬆ', 'st'],
  ['₺', 'TL'], // Turkish lira sign
]);

function transliteration(c: string): string | null {
  return LETTERS.get(c) ?? withoutAccents(c);
}

/**
 * The nearest GSM-7 letter: accents dropped from the last one inwards, so a letter keeps the ones
 * GSM-7 has (ǘ → ü, ṍ → o: GSM-7 has no õ, ó or o with both). null when even the bare letter is not GSM-7.
 */
function withoutAccents(s: string): string | null {
  const parts = Array.from(s.normalize('NFD'));
  if (parts.length < 2 || /\p{M}/u.test(parts[0])) return null;
  for (let n = parts.length - 1; n >= 1; n--) {
    const candidate = parts.slice(0, n).join('').normalize('NFC');
    if (isGsm7(candidate)) return candidate;
  }
  return null;
}
