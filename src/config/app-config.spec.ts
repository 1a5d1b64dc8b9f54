import { DEV_JWT_SECRET, loadConfig, SETTINGS, weakSecretProblem } from './app-config';

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
    expect(c.get('JWT_SECRET')).not.toBe(DEV_JWT_SECRET);
    expect(c.get('TWILIO_ACCOUNT_SID')).toBeUndefined();
    expect(c.get('JWT_MAX_TTL_SECONDS')).toBe(86400);
    expect(c.get('SMS_REQUEST_RATE_LIMIT')).toBe(600);
    expect(c.get('API_DOCS')).toBe('public');
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

  it('takes REDIS_CLUSTER_NODES as host:port pairs, and shards the delivery queues only on a cluster by default', () => {
    const single = loadConfig({});
    expect(single.redisCluster()).toBe(false);
    expect(single.queueShards()).toBe(1);
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' });
    expect(cluster.get('REDIS_CLUSTER_NODES')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(cluster.queueShards()).toBe(6);
    expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', SMS_QUEUE_SHARDS: '3' }).queueShards()).toBe(3);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1' })).toThrow(
      'REDIS_CLUSTER_NODES must be a comma-separated list of host:port (got "10.0.0.1")',
    );
  });

  it('takes SMS_WORKER_QUEUES as a list of the delivery queues, every one by default', () => {
    expect(loadConfig({}).get('SMS_WORKER_QUEUES')).toEqual(['delivery', 'campaigns', 'codes']);
    expect(loadConfig({ SMS_WORKER_QUEUES: 'codes' }).get('SMS_WORKER_QUEUES')).toEqual(['codes']);
    expect(
      loadConfig({ SMS_WORKER_QUEUES: ' delivery, campaigns,delivery' }).get('SMS_WORKER_QUEUES'),
    ).toEqual(['delivery', 'campaigns']);
    for (const bad of ['', 'code', 'codes,sms'])
      expect(() => loadConfig({ SMS_WORKER_QUEUES: bad })).toThrow(
        `SMS_WORKER_QUEUES must be a comma-separated list of delivery, campaigns, codes (got "${bad === 'codes,sms' ? 'sms' : bad}")`,
      );
  });

  it('takes DEFAULT_COUNTRY_CODE only as an ISO alpha-2 code libphonenumber knows', () => {
    expect(loadConfig({ DEFAULT_COUNTRY_CODE: 'tr' }).get('DEFAULT_COUNTRY_CODE')).toBe('TR');
    for (const bad of ['USA', 'XX', '1', '', 'ZZ'])
      expect(() => loadConfig({ DEFAULT_COUNTRY_CODE: bad })).toThrow(
        `DEFAULT_COUNTRY_CODE must be an ISO 3166-1 alpha-2 country code such as US or TR (got "${bad}")`,
      );
  });

  it('takes LOG_FORMAT pretty, json or empty', () => {
    expect(loadConfig({}).get('LOG_FORMAT')).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: 'json' }).get('LOG_FORMAT')).toBe('json');
    expect(() => loadConfig({ LOG_FORMAT: 'fancy' })).toThrow('LOG_FORMAT must be one of pretty, json');
  });

  it('trusts X-Forwarded-For only from the proxies TRUST_PROXY names, never from anyone', () => {
    expect(loadConfig({}).get('TRUST_PROXY')).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).get('TRUST_PROXY')).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,fd00::/8' }).get('TRUST_PROXY')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'fd00::/8',
    ]);
    for (const bad of ['true', '10.0.0.0/33', 'balancer.internal', '0', '10.0.0.1/8/1'])
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY must be/);
  });

  it('keeps idle connections longer than a load balancer does (AWS ALB: 60 s), headers longer still', () => {
    const c = loadConfig({});
    expect(c.get('HTTP_KEEP_ALIVE_TIMEOUT_MS')).toBe(65000);
    expect(c.get('HTTP_HEADERS_TIMEOUT_MS')).toBe(66000);
    expect(c.get('HTTP_REQUEST_TIMEOUT_MS')).toBe(90000);
  });

  it('refuses HTTP timeouts out of order: keep-alive < headers <= request', () => {
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '66000' })).toThrow(
      'HTTP_HEADERS_TIMEOUT_MS (66000) must be greater than HTTP_KEEP_ALIVE_TIMEOUT_MS (66000)',
    );
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '30000' })).toThrow(
      'HTTP_HEADERS_TIMEOUT_MS (66000) must be at most HTTP_REQUEST_TIMEOUT_MS (30000)',
    );
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '500' })).toThrow(
      'HTTP_KEEP_ALIVE_TIMEOUT_MS must be between 1000 and 3600000 (got 500)',
    );
    const lb = loadConfig({
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '350000',
      HTTP_HEADERS_TIMEOUT_MS: '351000',
      HTTP_REQUEST_TIMEOUT_MS: '351000',
    });
    expect(lb.get('HTTP_HEADERS_TIMEOUT_MS')).toBe(351000);
  });

  it('lists every bad variable at once', () => {
    expect(() => loadConfig({ PORT: '0', SMS_BULK_MAX: 'x' })).toThrow(/PORT[\s\S]*SMS_BULK_MAX/);
  });

  const STRONG = 'Zr8q1vX0mE4tY7uJb2Kc9LwP5sHn3GdA'; // 32 random characters
  const PROD = {
    NODE_ENV: 'production',
    JWT_SECRET: STRONG,
    TWILIO_ACCOUNT_SID: 'AC1',
    TWILIO_AUTH_TOKEN: 't',
    METRICS_TOKEN: 'scrape-token-0123456789',
  };

  it('starts in production with a 32-character random secret and provider credentials', () => {
    const c = loadConfig(PROD);
    expect(c.get('JWT_SECRET')).toBe(STRONG);
    expect(c.startupWarnings).toEqual([]);
  });

  it('refuses to start in production with a missing, blank, short, low-variety or development JWT secret', () => {
    expect(() => loadConfig({ ...PROD, JWT_SECRET: undefined })).toThrow('JWT_SECRET is blank');
    expect(() => loadConfig({ ...PROD, JWT_SECRET: ' '.repeat(40) })).toThrow('JWT_SECRET is blank');
    expect(() => loadConfig({ ...PROD, JWT_SECRET: 'short' })).toThrow('JWT_SECRET must be at least 32');
    expect(() => loadConfig({ ...PROD, JWT_SECRET: 'x'.repeat(32) })).toThrow('10 different characters');
    expect(() => loadConfig({ ...PROD, JWT_SECRET: 'abc'.repeat(20) })).toThrow('10 different characters');
    expect(() => loadConfig({ ...PROD, JWT_SECRET: DEV_JWT_SECRET })).toThrow(
      'JWT_SECRET is the published development secret',
    );
    expect(() => loadConfig({ ...PROD, SMS_DATA_KEY: 'k'.repeat(40) })).toThrow('SMS_DATA_KEY must use');
  });

  it('checks the secret by a simple documented rule', () => {
    expect(weakSecretProblem(STRONG)).toBeNull();
    expect(weakSecretProblem('0123456789abcdef0123456789abcdef')).toBeNull();
    expect(weakSecretProblem('')).toBe('is blank');
  });

  it('refuses the published development secret everywhere; outside production a blank one is random', () => {
    expect(() => loadConfig({ JWT_SECRET: DEV_JWT_SECRET })).toThrow(
      'JWT_SECRET is the published development secret',
    );
    expect(() => loadConfig({ JWT_SECRET: STRONG, SMS_DATA_KEY: DEV_JWT_SECRET })).toThrow(
      'SMS_DATA_KEY is the published development secret',
    );
    // A caller that did not read JWT_SECRET_FILE (entry points do: secret-file.spec.ts).
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a.get('JWT_SECRET')).toHaveLength(43);
    expect(a.get('JWT_SECRET')).not.toBe(b.get('JWT_SECRET'));
    expect(a.startupWarnings.join('\n')).toMatch(
      /JWT_SECRET is not set: a random secret of this process only/,
    );
    expect(loadConfig({ JWT_SECRET: ' '.repeat(40) }).startupWarnings.join()).toMatch(/blank/);
    expect(loadConfig({ JWT_SECRET: STRONG }).startupWarnings).toEqual([]);
  });

  it('in production refuses to fall back to the sandbox unless SMS_PROVIDERS=sandbox says so', () => {
    const bare = { NODE_ENV: 'production', JWT_SECRET: STRONG, METRICS_TOKEN: 'm'.repeat(20) };
    expect(() => loadConfig(bare)).toThrow(/no SMS provider is configured[\s\S]*SMS_PROVIDERS=sandbox/);
    expect(loadConfig({ ...bare, SMS_PROVIDERS: 'sandbox' }).get('SMS_PROVIDERS')).toEqual(['sandbox']);
    expect(() => loadConfig({ ...bare, SMS_PROVIDERS: 'sns' })).toThrow('SMS_PROVIDERS names sns');
    expect(loadConfig({ ...bare, AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' }).isProduction).toBe(
      true,
    );
    // Outside production the sandbox stays the default.
    expect(() => loadConfig({ JWT_SECRET: STRONG })).not.toThrow();
  });

  it('in production refuses WEBHOOK_ALLOW_INSECURE (callbacks to private addresses)', () => {
    const prod = {
      NODE_ENV: 'production',
      JWT_SECRET: STRONG,
      SMS_PROVIDERS: 'sandbox',
      METRICS_TOKEN: 'm'.repeat(20),
    };
    expect(() => loadConfig({ ...prod, WEBHOOK_ALLOW_INSECURE: 'true' })).toThrow(
      'WEBHOOK_ALLOW_INSECURE=true is for tests and local development',
    );
    expect(loadConfig({ ...prod, WEBHOOK_ALLOW_INSECURE: 'false' }).isProduction).toBe(true);
    expect(
      loadConfig({ JWT_SECRET: STRONG, WEBHOOK_ALLOW_INSECURE: 'true' }).get('WEBHOOK_ALLOW_INSECURE'),
    ).toBe(true);
  });

  it('lists the production problems together', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /JWT_SECRET is blank[\s\S]*no SMS provider[\s\S]*METRICS_TOKEN is not set/,
    );
  });

  it('in production serves /metrics only with METRICS_TOKEN, unless METRICS_PUBLIC=true says so', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: STRONG, SMS_PROVIDERS: 'sandbox' };
    expect(() => loadConfig(prod)).toThrow('METRICS_TOKEN is not set');
    expect(loadConfig({ ...prod, METRICS_PUBLIC: 'true' }).get('METRICS_PUBLIC')).toBe(true);
    expect(loadConfig({ ...prod, METRICS_TOKEN: 'm'.repeat(20) }).isProduction).toBe(true);
    expect(loadConfig({ JWT_SECRET: STRONG }).get('METRICS_TOKEN')).toBeUndefined();
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
