import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/auth/tokens';
import { DEV_JWT_SECRET } from '../../src/config/app-config';
import { withJwtSecretFile } from '../../src/config/secret-file';
import { createTestApp, freshTenantId, LogCapture } from '../support/test-app';

/** What a production start refuses, what elsewhere is only warned about, and the generated secret. */
describe('production start checks', () => {
  const STRONG = 'Zr8q1vX0mE4tY7uJb2Kc9LwP5sHn3GdA';
  const prod = {
    NODE_ENV: 'production',
    JWT_SECRET: STRONG,
    SMS_PROVIDERS: 'sandbox',
    METRICS_TOKEN: 'scrape-token-0123456789',
  };

  // First app of this file: nestjs-pino binds its out-of-context logger (start-up lines) to the
  // first app a process creates, so only this one's LogCapture sees them.
  it('outside production, a start without JWT_SECRET uses its generated file and refuses the published secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sms-start-'));
    const file = join(dir, '.sms-secrets', 'jwt-secret');
    const logs = new LogCapture();
    const started = withJwtSecretFile({ NODE_ENV: 'development', JWT_SECRET: '', JWT_SECRET_FILE: file });
    expect(started.file?.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const secret = readFileSync(file, 'utf8').trim();
    const t = await createTestApp({ env: started.env as Record<string, string>, logs });
    try {
      expect(t.config.get('JWT_SECRET')).toBe(secret);
      const tenant = freshTenantId();
      const devToken = signToken({ sub: '1', tenant_id: tenant, roles: ['super_admin'] }, DEV_JWT_SECRET);
      await t.http().get('/api/sms/me').set('Authorization', `Bearer ${devToken}`).expect(401);
      const fileToken = signToken({ sub: '1', tenant_id: tenant, roles: [] }, secret);
      await t.http().get('/api/sms/me').set('Authorization', `Bearer ${fileToken}`).expect(200);
      expect(logs.text()).not.toContain(secret);
      // A second start reads the same secret, so that token stays valid.
      const again = withJwtSecretFile({ NODE_ENV: 'development', JWT_SECRET_FILE: file });
      expect(again.file?.created).toBe(false);
      expect(again.env.JWT_SECRET).toBe(secret);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses the published development secret outside production too', async () => {
    await expect(
      createTestApp({ env: { NODE_ENV: 'development', JWT_SECRET: DEV_JWT_SECRET } }),
    ).rejects.toThrow('JWT_SECRET is the published development secret');
  });

  it.each([
    [
      'the built-in development secret',
      { JWT_SECRET: DEV_JWT_SECRET },
      'JWT_SECRET is the published development secret',
    ],
    ['40 spaces', { JWT_SECRET: ' '.repeat(40) }, 'JWT_SECRET is blank'],
    ['no secret', { JWT_SECRET: '' }, 'JWT_SECRET is blank'],
    ['a low-variety secret', { JWT_SECRET: 'ab'.repeat(20) }, 'at least 10 different characters'],
  ])('refuses to start with %s', async (_name, env, message) => {
    await expect(createTestApp({ env: { ...prod, ...env } })).rejects.toThrow(message);
  });

  it('refuses to start without provider credentials unless SMS_PROVIDERS=sandbox says so', async () => {
    await expect(createTestApp({ env: { ...prod, SMS_PROVIDERS: '' } })).rejects.toThrow(
      /no SMS provider is configured.*SMS_PROVIDERS=sandbox/,
    );
  });

  it('refuses to serve /metrics open: METRICS_TOKEN, or METRICS_PUBLIC=true said on purpose', async () => {
    await expect(createTestApp({ env: { ...prod, METRICS_TOKEN: '' } })).rejects.toThrow(
      /METRICS_TOKEN is not set.*METRICS_PUBLIC=true/,
    );
    const t = await createTestApp({ env: { ...prod, METRICS_TOKEN: '', METRICS_PUBLIC: 'true' } });
    try {
      await t.http().get('/metrics').expect(200);
    } finally {
      await t.close();
    }
  });

  it('starts with a strong secret and an explicit sandbox, and refuses tokens signed with the dev secret', async () => {
    const logs = new LogCapture();
    const t = await createTestApp({ env: prod, logs });
    try {
      const devToken = signToken({ sub: '1', tenant_id: 1, roles: ['super_admin'] }, DEV_JWT_SECRET);
      await t.http().get('/api/sms/me').set('Authorization', `Bearer ${devToken}`).expect(401);
      await t
        .http()
        .get('/api/sms/me')
        .set(t.auth({ tenant: freshTenantId() }))
        .expect(200);
      expect(logs.text()).not.toContain('INSECURE CONFIGURATION');
    } finally {
      await t.close();
    }
  });
});
