/** SMS encoding and segment counting (3GPP TS 23.038). Pure. */

export type Encoding = 'GSM-7' | 'UCS-2';

export interface TextAnalysis {
  encoding: Encoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
  /** Units per segment for this message (single-part limit when it fits in one). */
  perSegment: number;
  characters: number;
}

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[]~|€\f';
const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

const LIMITS: Record<Encoding, { single: number; multi: number }> = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
};

/** Packs units into parts without splitting a 2-unit character across two parts. */
function countSegments(widths: number[], single: number, multi: number): number {
  const total = widths.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  if (total <= single) return 1;
  let parts = 1;
  let used = 0;
  for (const w of widths) {
    if (used + w > multi) {
      parts += 1;
      used = 0;
    }
    used += w;
  }
  return parts;
}

/** True when every character of `text` is in the GSM-7 alphabet or its extension table ('' too). */
export function isGsm7(text: string): boolean {
  for (const c of text) if (!BASIC.has(c) && !EXTENDED.has(c)) return false;
  return true;
}

export function analyzeText(text: string): TextAnalysis {
  const chars = Array.from(text); // code points
  const gsm = chars.every((c) => BASIC.has(c) || EXTENDED.has(c));
  const encoding: Encoding = gsm ? 'GSM-7' : 'UCS-2';
  const widths = gsm ? chars.map((c) => (EXTENDED.has(c) ? 2 : 1)) : chars.map((c) => c.length);
  const { single, multi } = LIMITS[encoding];
  const units = widths.reduce((a, b) => a + b, 0);
  const segments = countSegments(widths, single, multi);
  return { encoding, units, segments, perSegment: segments > 1 ? multi : single, characters: chars.length };
}
