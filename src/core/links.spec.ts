import { randomBytes } from 'node:crypto';
import { findUrls, LINK_CODE_LENGTH, LINK_CODE_PATTERN, linkCodes, rewriteUrls } from './links';

const urls = (text: string) => findUrls(text).map((f) => f.url);

describe('findUrls', () => {
  it('finds http and https URLs and leaves trailing punctuation out', () => {
    expect(urls('See https://example.com/a?b=1. Or http://x.io/p, then!')).toEqual([
      'https://example.com/a?b=1',
      'http://x.io/p',
    ]);
    expect(urls('Go to https://example.com/offer?!')).toEqual(['https://example.com/offer']);
    expect(urls('Done: https://example.com…')).toEqual(['https://example.com']);
  });

  it('keeps a bracket the URL opened and drops one it did not', () => {
    expect(urls('(see https://x.io/a)')).toEqual(['https://x.io/a']);
    expect(urls('https://en.wikipedia.org/wiki/A_(b) ok')).toEqual(['https://en.wikipedia.org/wiki/A_(b)']);
  });

  it('stops at quotes and angle brackets, and ignores schemes without a host or glued to a word', () => {
    expect(urls('"https://x.io/q" <https://y.io>')).toEqual(['https://x.io/q', 'https://y.io']);
    expect(urls('https:// nothing, ftp://x.io, xhttps://y.io, mailto:a@b.c')).toEqual([]);
    expect(urls('HTTPS://Example.COM/Path')).toEqual(['HTTPS://Example.COM/Path']);
  });

  it('skips the service own short links', () => {
    expect(findUrls('https://s.io/l/abcdEFGH and https://x.io', 'https://s.io/l/').map((f) => f.url)).toEqual(
      ['https://x.io'],
    );
  });
});

describe('rewriteUrls', () => {
  it('replaces each distinct URL by one short link and keeps the rest of the text', () => {
    let n = 0;
    const r = rewriteUrls(
      'A https://x.io/1. B https://x.io/1 C (https://y.io)',
      'https://s.io',
      () => `code000${n++}`,
    );
    expect(r).toEqual({
      text: 'A https://s.io/l/code0000. B https://s.io/l/code0000 C (https://s.io/l/code0001)',
      links: [
        { code: 'code0000', url: 'https://x.io/1' },
        { code: 'code0001', url: 'https://y.io' },
      ],
    });
  });

  it('is null for a text without URLs', () => {
    expect(rewriteUrls('no links here', 'https://s.io', () => 'x')).toBeNull();
  });
});

describe('linkCodes', () => {
  it('makes base62 codes of the fixed length, uniformly from the random source', () => {
    const codes = linkCodes(10_000, randomBytes);
    expect(codes).toHaveLength(10_000);
    for (const c of codes) expect(c).toMatch(LINK_CODE_PATTERN);
    expect(new Set(codes).size).toBe(10_000);
    expect(LINK_CODE_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(40);
  });

  it('draws again when rejected bytes leave it short', () => {
    let calls = 0;
    const codes = linkCodes(2, (n) => {
      calls++;
      return new Uint8Array(n).fill(calls === 1 ? 255 : 1);
    });
    expect(codes).toEqual(['11111111', '11111111']);
    expect(calls).toBe(2);
  });
});
