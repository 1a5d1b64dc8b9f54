/**
 * Keywords recipients text to our numbers (STOP, START, HELP), in English and Turkish. Pure.
 * A keyword is the whole trimmed body, compared case- and accent-insensitively: "iptal", "İPTAL",
 * "Iptal" and "ıptal" are one word, as are "başla" and "BASLA".
 */

export type KeywordAction = 'stop' | 'start' | 'help';
export type KeywordLanguage = 'en' | 'tr';

export interface KeywordMatch {
  action: KeywordAction;
  /** The language of the reply (the keyword's language). */
  language: KeywordLanguage;
  /** The keyword as normalised (e.g. "IPTAL"). */
  word: string;
  /** 'builtin' (the lists below), 'tenant' (the tenant's own keywords) or 'provider' (OptOutType). */
  origin: 'builtin' | 'tenant' | 'provider';
}

/** A tenant's own keywords (tenant setting `inbound_keywords`). */
export interface TenantKeywords {
  stop?: string[];
  start?: string[];
  help?: string[];
}

const BUILTIN: Record<KeywordLanguage, Record<KeywordAction, readonly string[]>> = {
  en: {
    stop: ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT'],
    start: ['START', 'UNSTOP', 'YES'],
    help: ['HELP', 'INFO'],
  },
  tr: {
    stop: ['IPTAL', 'RET', 'DUR'],
    start: ['BASLA'],
    help: ['YARDIM', 'BILGI'],
  },
};

const ACTIONS: readonly KeywordAction[] = ['stop', 'start', 'help'];
const LANGUAGES: readonly KeywordLanguage[] = ['en', 'tr'];

/** Longest text that can be a keyword; anything longer is a conversation, not a command. */
export const MAX_KEYWORD_CHARS = 64;

/**
 * The comparable form of a text: trimmed, decomposed (NFD) with every combining mark removed
 * (ş→s, ç→c, İ→I+◌̇→I), the dotless ı folded to i, then upper-cased without a locale (so i→I, not
 * İ). Inner whitespace runs become one space.
 */
export function normalizeKeyword(text: string): string {
  return text
    .trim()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/ı/g, 'i')
    .toUpperCase()
    .replace(/\s+/g, ' ');
}

/**
 * The keyword a whole body is, or null. The built-in lists come first; then the tenant's own
 * keywords (replied to in `tenantLanguage`).
 */
export function matchKeyword(
  body: string,
  tenant?: TenantKeywords | null,
  tenantLanguage: KeywordLanguage = 'en',
): KeywordMatch | null {
  if (body.length > MAX_KEYWORD_CHARS * 4) return null;
  const word = normalizeKeyword(body);
  if (word === '' || word.length > MAX_KEYWORD_CHARS) return null;
  for (const language of LANGUAGES) {
    for (const action of ACTIONS) {
      if (BUILTIN[language][action].includes(word)) return { action, language, word, origin: 'builtin' };
    }
  }
  for (const action of ACTIONS) {
    const own = tenant?.[action] ?? [];
    if (own.some((w) => normalizeKeyword(w) === word))
      return { action, language: tenantLanguage, word, origin: 'tenant' };
  }
  return null;
}

/** Problems with a tenant's `inbound_keywords` setting (for validation), or null. */
export function tenantKeywordsProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'inbound_keywords must be an object with stop, start and help lists';
  const seen = new Map<string, string>();
  for (const [key, list] of Object.entries(value)) {
    if (!(ACTIONS as readonly string[]).includes(key))
      return `inbound_keywords.${key} is not one of ${ACTIONS.join(', ')}`;
    if (!Array.isArray(list) || list.length > 20)
      return `inbound_keywords.${key} must be a list of at most 20 words`;
    for (const w of list as unknown[]) {
      if (typeof w !== 'string') return `inbound_keywords.${key} must hold strings`;
      const n = normalizeKeyword(w);
      if (!/^[A-Z0-9][A-Z0-9 ]{0,31}$/.test(n))
        return `inbound_keywords.${key}: "${w.slice(0, 40)}" must be 1-32 letters or digits`;
      const builtin = matchKeyword(n);
      if (builtin && builtin.action !== key)
        return `inbound_keywords.${key}: "${w}" is already the built-in ${builtin.action} keyword`;
      const other = seen.get(n);
      if (other && other !== key) return `inbound_keywords: "${w}" is in both ${other} and ${key}`;
      seen.set(n, key);
    }
  }
  return null;
}

/** Twilio's OptOutType (STOP, START, HELP) as an action, or null. */
export function providerKeyword(optOutType: string | undefined): KeywordAction | null {
  const t = optOutType?.trim().toLowerCase();
  return t === 'stop' || t === 'start' || t === 'help' ? t : null;
}
