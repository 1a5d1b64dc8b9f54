import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Privacy owns `sms_privacy_requests` only: the other tables a data-subject request touches are
 * erased and exported by their owners' `PersonalDataPart`s, so their rules are not written twice.
 */
describe('src/privacy writes only its own table', () => {
  it('names no other table in an INSERT, UPDATE or DELETE', () => {
    const written = new Set<string>();
    for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
      const code = readFileSync(join(__dirname, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      for (const [, table] of code.matchAll(/\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)/g))
        written.add(table);
    }
    expect([...written]).toEqual(['sms_privacy_requests']);
  });
});
