import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvExample } from './env-example';

describe('.env.sms.example', () => {
  it('lists every setting with its description and default (run `npm run env:example` after a change)', () => {
    expect(readFileSync(join(__dirname, '../../.env.sms.example'), 'utf8')).toBe(renderEnvExample());
  });
});
