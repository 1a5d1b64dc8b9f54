/**
 * The docs link to each other by file and heading: README.md, docs/*.md and the clients' READMEs.
 * A heading renamed or a section moved to another file breaks such a link without a sound; this
 * spec names each one. Anchors are GitHub's: the heading's text, lower-case, without punctuation,
 * spaces as hyphens, "-1", "-2"... for repeats.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'clients/python/README.md',
  'clients/typescript/README.md',
];

/** The file's lines outside fenced code blocks, with inline code spans blanked. */
function prose(text: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) out.push(line.replace(/`[^`]*`/g, (code) => (/^#/.test(line) ? code : '``')));
  }
  return out;
}

function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of prose(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

function links(text: string): string[] {
  const found: string[] = [];
  for (const line of prose(text)) {
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) found.push(m[1]);
  }
  return found;
}

describe('links between the docs', () => {
  it.each(FILES)('%s: every relative link names a file that exists, and a heading in it', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const broken: string[] = [];
    for (const link of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
      const [path, fragment] = link.split('#', 2);
      const target = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), decodeURI(path));
      if (!existsSync(target)) {
        broken.push(`${link}: no file ${relative(ROOT, target)}`);
        continue;
      }
      if (
        fragment !== undefined &&
        target.endsWith('.md') &&
        !anchors(readFileSync(target, 'utf8')).has(fragment)
      )
        broken.push(`${link}: no heading #${fragment} in ${relative(ROOT, target)}`);
    }
    expect(broken).toEqual([]);
  });

  it('reads anchors as GitHub makes them', () => {
    const doc = [
      '# Webhooks: providers, inbound texts',
      '## In-process SDK: `SmsService`',
      '## Python client (`clients/python`)',
      '## Sending',
      '## Sending',
      '```bash',
      '# not a heading',
      '```',
    ].join('\n');
    expect([...anchors(doc)]).toEqual([
      'webhooks-providers-inbound-texts',
      'in-process-sdk-smsservice',
      'python-client-clientspython',
      'sending',
      'sending-1',
    ]);
    expect(links('see [a](b.md#c), `[x](y)` and\n```\n[d](e)\n```\n![i](img.png)')).toEqual([
      'b.md#c',
      'img.png',
    ]);
  });
});
