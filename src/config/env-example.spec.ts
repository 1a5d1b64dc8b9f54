import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS } from './app-config';
import { renderEnvExample } from './env-example';

describe('.env.sms.example', () => {
  it('lists every setting with its description and default (run `npm run env:example` after a change)', () => {
    expect(readFileSync(join(__dirname, '../../.env.sms.example'), 'utf8')).toBe(renderEnvExample());
  });

  it('every setting is in the README settings table', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    for (const name of Object.keys(SETTINGS)) expect(readme).toContain(`| \`${name}\` |`);
  });
});
