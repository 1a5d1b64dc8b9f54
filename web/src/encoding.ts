/**
 * The service's own GSM-7/UCS-2 and smart encoding rules (src/core/encoding.ts and
 * smart-encoding.ts are pure, so the page imports them as they are).
 */
import { analyzeText, type TextAnalysis } from '../../src/core/encoding';
import { CODE_MESSAGE_TYPES } from '../../src/core/message-types';
import {
  DEFAULT_SMART_ENCODING,
  smartEncode,
  smartEncodingMode,
  type SmartEncodingMode,
} from '../../src/core/smart-encoding';

export { analyzeText, smartEncode, smartEncodingMode, type SmartEncodingMode, type TextAnalysis };

/**
 * The tenant's `smart_encoding`, as the template list tells it: a template that is neither exact
 * nor of a code type carries the tenant's setting (the built-in general_notification at least).
 */
export function tenantSmartEncoding(
  templates: { exact: boolean; message_type: string; smart_encoding: SmartEncodingMode }[],
): SmartEncodingMode {
  const plain = templates.find((x) => !x.exact && !CODE_MESSAGE_TYPES.includes(x.message_type));
  return plain?.smart_encoding ?? DEFAULT_SMART_ENCODING;
}

/** Each distinct character that is not in the GSM-7 alphabets, in order of first use. */
export function ucs2Characters(text: string): string[] {
  const seen = new Set<string>();
  for (const c of Array.from(text)) if (analyzeText(c).encoding === 'UCS-2') seen.add(c);
  return [...seen];
}

/** The text cut into runs: `ucs2` marks the characters that force UCS-2 (for highlighting as text). */
export function ucs2Runs(text: string): { text: string; ucs2: boolean }[] {
  const runs: { text: string; ucs2: boolean }[] = [];
  for (const c of Array.from(text)) {
    const ucs2 = analyzeText(c).encoding === 'UCS-2';
    const last = runs[runs.length - 1];
    if (last && last.ucs2 === ucs2) last.text += c;
    else runs.push({ text: c, ucs2 });
  }
  return runs;
}

/** `{{name}}` replaced by the sample value (the preview only; the server renders real sends). */
export function renderSample(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (m, name: string) =>
    name in vars ? vars[name] : m,
  );
}

/** `a=b` lines to an object. */
export function parsePairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function splitList(text: string): string[] | undefined {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
}
