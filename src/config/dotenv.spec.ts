import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDotEnv } from './dotenv';

describe('loadDotEnv', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['DOTENV_SPEC_A', 'DOTENV_SPEC_B']) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('reads the file without overriding variables already set', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dotenv-')), '.env');
    writeFileSync(file, 'DOTENV_SPEC_A=from-file\nDOTENV_SPEC_B="quoted value"\n');
    process.env.DOTENV_SPEC_A = 'from-shell';
    expect(loadDotEnv(file)).toBe(file);
    expect(process.env.DOTENV_SPEC_A).toBe('from-shell');
    expect(process.env.DOTENV_SPEC_B).toBe('quoted value');
  });

  it('does nothing when there is no file', () => {
    expect(loadDotEnv(join(tmpdir(), 'no-such-dir-xyz', '.env'))).toBeNull();
  });
});
