import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as mintToken } from '../auth/mint-token.cli';
import { verify } from 'jsonwebtoken';
import { DEV_JWT_SECRET, loadConfig } from './app-config';
import { withJwtSecretFile } from './secret-file';

describe('the JWT secret of a start without JWT_SECRET', () => {
  let root: string;
  let file: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sms-secret-'));
    file = join(root, '.sms-secrets', 'jwt-secret');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const mode = (p: string) => statSync(p).mode & 0o777;

  it('is generated once into a 0600 file in a 0700 directory, then reused, and keys the data stably', () => {
    const first = withJwtSecretFile({ JWT_SECRET_FILE: file });
    expect(first.file).toEqual({ path: file, created: true });
    expect(mode(file)).toBe(0o600);
    expect(mode(join(root, '.sms-secrets'))).toBe(0o700);
    const secret = readFileSync(file, 'utf8').trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    const config = loadConfig(first.env);
    expect(config.get('JWT_SECRET')).toBe(secret);
    expect(config.startupWarnings).toEqual([]);

    const second = withJwtSecretFile({ JWT_SECRET_FILE: file, JWT_SECRET: '  ' });
    expect(second.file).toEqual({ path: file, created: false });
    expect(readFileSync(file, 'utf8').trim()).toBe(secret);
    expect(loadConfig(second.env).dataKey()).toBe(config.dataKey());
  });

  it('is what npm run token signs with', () => {
    const env = { JWT_SECRET_FILE: file, LOG_LEVEL: 'silent' };
    const out = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(mintToken(['--tenant', '7', '--role', 'admin'], env)).toBe(0);
      const token = String(out.mock.calls[0][0]);
      const secret = readFileSync(file, 'utf8').trim();
      expect(verify(token, secret, { algorithms: ['HS256'] })).toMatchObject({ tenant_id: 7 });
      expect(() => verify(token, DEV_JWT_SECRET, { algorithms: ['HS256'] })).toThrow();
      // The service started afterwards reads the same file, so it accepts that token.
      expect(loadConfig(withJwtSecretFile(env).env).get('JWT_SECRET')).toBe(secret);
    } finally {
      out.mockRestore();
    }
  });

  it('is refused when others may read the file or replace it', () => {
    withJwtSecretFile({ JWT_SECRET_FILE: file });
    chmodSync(file, 0o644);
    expect(() => withJwtSecretFile({ JWT_SECRET_FILE: file })).toThrow(
      /JWT_SECRET_FILE .*jwt-secret has mode 0644: others may read it/,
    );
    chmodSync(file, 0o600);
    chmodSync(join(root, '.sms-secrets'), 0o777);
    expect(() => withJwtSecretFile({ JWT_SECRET_FILE: file })).toThrow(/directory of mode 0777/);
  });

  it('refuses a weak or published secret put in the file, and never overwrites it', () => {
    mkdirSync(join(root, '.sms-secrets'), { mode: 0o700 });
    writeFileSync(file, `${DEV_JWT_SECRET}\n`, { mode: 0o600 });
    expect(() => withJwtSecretFile({ JWT_SECRET_FILE: file })).toThrow(
      /the secret in it is the built-in development secret/,
    );
    expect(readFileSync(file, 'utf8').trim()).toBe(DEV_JWT_SECRET);
  });

  it('leaves a set JWT_SECRET alone, and production to its own check', () => {
    const strong = 'Zr8q1vX0mE4tY7uJb2Kc9LwP5sHn3GdA';
    expect(withJwtSecretFile({ JWT_SECRET: strong, JWT_SECRET_FILE: file }).file).toBeNull();
    expect(withJwtSecretFile({ NODE_ENV: 'production', JWT_SECRET_FILE: file }).file).toBeNull();
    expect(() => statSync(file)).toThrow();
  });
});
