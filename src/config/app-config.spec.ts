import { DEV_JWT_SECRET, loadConfig, SETTINGS } from './app-config';

describe('loadConfig', () => {
  it('starts with safe defaults on an empty environment', () => {
    const c = loadConfig({});
    expect(c.get('PORT')).toBe(3000);
    expect(c.get('DATABASE_URL')).toBe('postgres://postgres@127.0.0.1:5432/sms');
    expect(c.get('REDIS_URL')).toBe('redis://127.0.0.1:6379');
    expect(c.get('APP_ROLE')).toBe('all');
    expect(c.get('SMS_RATE_LIMIT')).toBe(100);
    expect(c.get('SMS_RETENTION_DAYS')).toBe(90);
    expect(c.get('DEFAULT_COUNTRY_CODE')).toBe('US');
    expect(c.get('JWT_SECRET')).toBe(DEV_JWT_SECRET);
    expect(c.get('TWILIO_ACCOUNT_SID')).toBeUndefined();
  });

  it('names the variable and what it expects when a value is bad', () => {
    expect(() => loadConfig({ SMS_RATE_LIMIT: 'abc' })).toThrow(
      'SMS_RATE_LIMIT must be a whole number (got "abc")',
    );
    expect(() => loadConfig({ APP_ROLE: 'both' })).toThrow(
      'APP_ROLE must be one of api, worker, all (got "both")',
    );
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(
      'REDIS_URL must be a URL starting with redis: or rediss:',
    );
    expect(() => loadConfig({ SMS_PROVIDERS: 'twilio,carrier-pigeon' })).toThrow('SMS_PROVIDERS must be');
  });

  it('lists every bad variable at once', () => {
    expect(() => loadConfig({ PORT: '0', SMS_BULK_MAX: 'x' })).toThrow(/PORT[\s\S]*SMS_BULK_MAX/);
  });

  it('refuses to start in production without a long JWT secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      'JWT_SECRET must be set to at least 32 characters',
    );
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow('JWT_SECRET');
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).get('JWT_SECRET')).toBe(
      'x'.repeat(32),
    );
  });

  it('keys stored data with SMS_DATA_KEY when set, else JWT_SECRET, and refuses a short one', () => {
    expect(loadConfig({ JWT_SECRET: 'j'.repeat(32) }).dataKey()).toBe('j'.repeat(32));
    expect(loadConfig({ JWT_SECRET: 'j'.repeat(32), SMS_DATA_KEY: 'd'.repeat(32) }).dataKey()).toBe(
      'd'.repeat(32),
    );
    expect(() => loadConfig({ SMS_DATA_KEY: 'short' })).toThrow(
      'SMS_DATA_KEY must be at least 32 characters',
    );
  });

  it('does not echo a sensitive value in its error', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' })).toThrow(/^(?![\s\S]*hunter2)/);
  });

  it('describes every setting', () => {
    for (const [name, s] of Object.entries(SETTINGS))
      expect(`${name}: ${s.description}`.length).toBeGreaterThan(name.length + 10);
  });
});
