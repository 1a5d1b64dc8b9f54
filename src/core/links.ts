/**
 * Tracked links, the pure part: which http(s) URLs a message body holds, and the short codes that
 * replace them. No I/O; randomness is handed in (a `RandomBytes`), so tests need no luck.
 */

/** Length of a short link's code: 8 base62 characters ≈ 47.6 bits of randomness. */
export const LINK_CODE_LENGTH = 8;

/** Where short links answer: `<base>/l/<code>`. */
export const LINK_PATH = '/l/';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A code as the redirect route accepts it. */
export const LINK_CODE_PATTERN = new RegExp(`^[0-9A-Za-z]{${LINK_CODE_LENGTH}}$`);

/** `n` random bytes (crypto.randomBytes in the app, a seeded source in tests). */
export type RandomBytes = (n: number) => Uint8Array;

/**
 * `count` codes of LINK_CODE_LENGTH base62 characters from one draw of random bytes (rejection
 * sampling: bytes ≥ 248 are dropped, so every character is uniform), drawing again only when a
 * draw ran short.
 */
export function linkCodes(count: number, random: RandomBytes): string[] {
  const codes: string[] = [];
  let chars = '';
  while (codes.length < count) {
    const need = (count - codes.length) * LINK_CODE_LENGTH - chars.length;
    // ~3 % of bytes are rejected: ask for a little more than needed.
    const bytes = random(Math.ceil(need * 1.05) + 8);
    for (const b of bytes) {
      if (b >= 248) continue;
      chars += BASE62[b % 62];
      if (chars.length === LINK_CODE_LENGTH) {
        codes.push(chars);
        chars = '';
        if (codes.length === count) break;
      }
    }
  }
  return codes;
}

/** One URL found in a body: where it is and what it says. */
export interface FoundUrl {
  start: number;
  end: number;
  url: string;
}

/**
 * Candidate URLs: http:// or https:// (any case) not glued to a preceding letter, digit or slash,
 * up to whitespace or a character that cannot end a URL in running text (quotes, angle brackets).
 */
const URL_CANDIDATE = /(?<![\p{L}\p{N}_/@.-])https?:\/\/[^\s<>"'`{}|\\^]+/giu;

/** Characters that end a sentence rather than a URL when they close it. */
const TRAILING = /[.,;:!?*…]$/u;

const PAIRS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/**
 * The http(s) URLs of a text, in order. Trailing punctuation (`.`, `,`, `;`, `:`, `!`, `?`, `…`)
 * is left out, and so is a closing bracket the URL did not open ("(see https://x.io/a)" → the
 * URL is `https://x.io/a`; "https://en.wikipedia.org/wiki/A_(b)" keeps its bracket). A candidate
 * without a host (`https://`) is not a URL. `skip` leaves out URLs that start with it (the
 * service's own short links).
 */
export function findUrls(text: string, skip?: string): FoundUrl[] {
  const found: FoundUrl[] = [];
  for (const m of text.matchAll(URL_CANDIDATE)) {
    let url = m[0];
    for (;;) {
      const last = url[url.length - 1];
      if (TRAILING.test(last)) {
        url = url.slice(0, -1);
        continue;
      }
      const open = PAIRS[last];
      if (open !== undefined && count(url, open) < count(url, last)) {
        url = url.slice(0, -1);
        continue;
      }
      break;
    }
    if (!hasHost(url)) continue;
    if (skip && url.toLowerCase().startsWith(skip.toLowerCase())) continue;
    const start = m.index;
    found.push({ start, end: start + url.length, url });
  }
  return found;
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

function hasHost(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}

/** A body whose URLs were replaced: the text, and each distinct URL with the code that stands for it. */
export interface Rewritten {
  text: string;
  links: { code: string; url: string }[];
}

/**
 * Replaces each URL of `text` (as `findUrls` finds them) by `<base>/l/<code>`, one code per
 * distinct URL (a URL written twice gets one link), codes taken from `codes` in order. Null when
 * the text holds no URL.
 */
export function rewriteUrls(
  text: string,
  base: string,
  nextCode: () => string,
  found: FoundUrl[] = findUrls(text, base + LINK_PATH),
): Rewritten | null {
  if (found.length === 0) return null;
  const byUrl = new Map<string, string>();
  let out = '';
  let at = 0;
  for (const f of found) {
    let code = byUrl.get(f.url);
    if (code === undefined) {
      code = nextCode();
      byUrl.set(f.url, code);
    }
    out += text.slice(at, f.start) + base + LINK_PATH + code;
    at = f.end;
  }
  out += text.slice(at);
  return { text: out, links: [...byUrl].map(([url, code]) => ({ code, url })) };
}
