import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS } from './app-config';
import { groupedSettings, renderSettingsDoc, SETTING_GROUPS } from './settings-doc';

describe('docs/settings.md', () => {
  it('is the generator output (run `npm run env:example` after a change to the catalogue)', () => {
    expect(readFileSync(join(__dirname, '../../docs/settings.md'), 'utf8')).toBe(renderSettingsDoc());
  });

  it('lists every setting once, under the group whose run of the catalogue holds it', () => {
    const doc = renderSettingsDoc();
    for (const name of Object.keys(SETTINGS)) {
      expect(doc.split(`| \`${name}\` |`)).toHaveLength(2);
    }
    const grouped = groupedSettings();
    expect(grouped.map((g) => g.group.title)).toEqual(SETTING_GROUPS.map((g) => g.title));
    expect(grouped.flatMap((g) => g.names)).toEqual(Object.keys(SETTINGS));
    for (const { group, names } of grouped) expect(names[0]).toBe(group.first);
  });

  it('shows the default, the sensitive flag and a description that cannot break the table', () => {
    const doc = renderSettingsDoc();
    expect(doc).toContain('| `PORT` | `3000` | HTTP port of the api role |  |');
    expect(doc).toMatch(/\| `JWT_SECRET` \| — \| [^\n]+ \| yes \|\n/);
    // "https://sns.<region>.amazonaws.com": an HTML tag to a Markdown renderer unless escaped.
    expect(doc).toContain('https://sns.&lt;region>.amazonaws.com');
    for (const row of doc.split('\n').filter((l) => l.startsWith('| `'))) {
      expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(6);
    }
  });
});
