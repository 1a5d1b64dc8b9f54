/**
 * The whole test bed: own Redis and PostgreSQL, the fake providers behind gates, and per
 * scenario a fresh database, an empty Redis and new service processes.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { signToken } from '../src/auth/tokens';
import { migrate } from '../src/database/bootstrap';
import { validatePhoneNumber } from '../src/phone/phone';
import { freePort, OwnPostgres, OwnRedis } from './infra';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, Providers } from './providers';
import { ServiceProcess } from './service';

const SECRET = 'chaos-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const TEMPLATE_DB = 'chaos_template';
export const FINAL_STATUSES = ['sent', 'delivered', 'failed', 'undelivered', 'canceled', 'unknown'];

export interface StackOptions {
  workerConcurrency: number;
  logDir: string;
}

export interface HttpResult<T = unknown> {
  /** 0 when no answer came (timeout or connection error). */
  status: number;
  ms: number;
  error?: string;
  headers: Headers;
  body: T | undefined;
}

export class Stack {
  readonly providers = new Providers();
  redis!: OwnRedis;
  pg!: OwnPostgres;
  apiPort = 0;

  constructor(readonly opts: StackOptions) {}

  async setup(): Promise<void> {
    mkdirSync(this.opts.logDir, { recursive: true });
    this.redis = new OwnRedis(await freePort(6391));
    this.pg = new OwnPostgres(await freePort(5441));
    this.apiPort = await freePort(3950);
    this.pg.init();
    await this.pg.start();
    await this.admin(`CREATE DATABASE ${TEMPLATE_DB}`);
    await migrate(this.pg.url(TEMPLATE_DB));
    await this.redis.start();
    await this.providers.start();
  }

  async teardown(): Promise<void> {
    await this.providers.stop();
    await this.redis.kill();
    await this.pg.stop().catch(() => undefined);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** A fresh database, an empty Redis, reset providers, one api and `workers` workers. */
  async deploy(scenario: string, workers: number, env: Record<string, string> = {}): Promise<Deployment> {
    const deployment = new Deployment(this, scenario, await this.reset(scenario), env);
    await Promise.all([
      deployment.startApi(),
      ...Array.from({ length: workers }, () => deployment.startWorker()),
    ]);
    return deployment;
  }

  /** A fresh database for the scenario (its URL), an empty Redis and reset providers. */
  async reset(scenario: string): Promise<string> {
    const database = `chaos_${scenario}`;
    await this.admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await this.admin(`CREATE DATABASE ${database} TEMPLATE ${TEMPLATE_DB}`);
    await this.redis.flush();
    await this.providers.reset();
    return this.pg.url(database);
  }

  serviceEnv(databaseUrl: string): Record<string, string> {
    return {
      NODE_ENV: 'production',
      PORT: String(this.apiPort),
      DATABASE_URL: databaseUrl,
      DB_MIGRATE_ON_START: 'false',
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: 'chaos',
      JWT_SECRET: SECRET,
      // Production serves /metrics only with a token.
      METRICS_TOKEN: 'chaos-metrics-token-0123456789',
      LOG_LEVEL: 'warn',
      PUBLIC_BASE_URL: this.baseUrl,
      TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
      TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: this.providers.twilioGate.url,
      AWS_ACCESS_KEY_ID: 'AKIACHAOSFAKE0000000',
      AWS_SECRET_ACCESS_KEY: 'chaos-fake-secret-access-key-000000000000',
      AWS_REGION: 'us-east-1',
      AWS_SNS_ENDPOINT: this.providers.snsGate.url,
      SMS_PROVIDERS: 'twilio,sns',
      SMS_PROVIDER_TIMEOUT_MS: '5000',
      SMS_RATE_LIMIT: '1000000000',
      SMS_ADMIN_RATE_LIMIT: '1000000000',
      // The drivers' own pace (the topology's codes: 10 a second from one token, and their retries
      // after a 503) is not what a scenario measures.
      SMS_REQUEST_RATE_LIMIT: '1000000',
      SMS_BULK_MAX: '10000',
      SMS_WORKER_CONCURRENCY: String(this.opts.workerConcurrency),
      // The shortest allowed: a fix that resolves rows left in `sending` can do it within a run.
      SMS_STUCK_SENDING_MINUTES: '1',
    };
  }

  token(tenant: number): string {
    return signToken({ sub: 'chaos', tenant_id: tenant, roles: ['admin'] }, SECRET, {
      expiresInSeconds: 4 * 3600,
    });
  }

  private async admin(sql: string): Promise<void> {
    const client = new Client({ connectionString: this.pg.url('postgres') });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

/** One scenario's service processes, database and HTTP client. */
export class Deployment {
  readonly db: Pool;
  api!: ServiceProcess;
  readonly workers: ServiceProcess[] = [];

  constructor(
    private readonly stack: Stack,
    readonly scenario: string,
    readonly databaseUrl: string,
    private readonly env: Record<string, string>,
  ) {
    this.db = new Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 2000 });
    // Idle clients die when PostgreSQL is stopped on purpose; the pool replaces them.
    this.db.on('error', () => undefined);
  }

  async startApi(): Promise<void> {
    this.api = this.process('api', 'api');
    await this.api.start();
  }

  async startWorker(): Promise<ServiceProcess> {
    const worker = this.process(`worker${this.workers.length + 1}`, 'worker');
    this.workers.push(worker);
    await worker.start();
    return worker;
  }

  async stop(): Promise<void> {
    for (const p of [...this.workers, this.api]) await p?.kill();
    await this.db.end().catch(() => undefined);
  }

  async http<T>(
    method: 'GET' | 'POST',
    path: string,
    opts: { tenant?: number; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<HttpResult<T>> {
    const started = performance.now();
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.tenant !== undefined) headers.Authorization = `Bearer ${this.stack.token(opts.tenant)}`;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      const res = await fetch(`${this.stack.baseUrl}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
      const text = await res.text();
      let body: T | undefined;
      try {
        body = JSON.parse(text) as T;
      } catch {
        body = undefined;
      }
      return { status: res.status, ms: performance.now() - started, headers: res.headers, body };
    } catch (e) {
      const error = e instanceof Error && e.name === 'TimeoutError' ? 'timeout' : 'connection error';
      return { status: 0, ms: performance.now() - started, error, headers: new Headers(), body: undefined };
    }
  }

  /** Sends through /send-bulk in chunks of at most 10,000; returns the accepted message ids. */
  async sendBulk(tenant: number, numbers: string[], message: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < numbers.length; i += 10_000) {
      const res = await this.http<{ message_ids: string[]; rejected: unknown[] }>(
        'POST',
        '/api/sms/send-bulk',
        {
          tenant,
          body: { phone_numbers: numbers.slice(i, i + 10_000), message },
          timeoutMs: 60_000,
        },
      );
      if (res.status !== 202 || !res.body)
        throw new Error(`send-bulk answered ${res.status || res.error}: ${JSON.stringify(res.body)}`);
      if (res.body.rejected.length > 0) throw new Error(`send-bulk rejected ${res.body.rejected.length}`);
      ids.push(...res.body.message_ids);
    }
    return ids;
  }

  private process(name: string, role: 'api' | 'worker'): ServiceProcess {
    return new ServiceProcess(
      `${this.scenario}/${name}`,
      role,
      // The worker logs at info: 'sms-service started: role worker' is its readiness signal, and it logs little else.
      {
        ...this.stack.serviceEnv(this.databaseUrl),
        LOG_LEVEL: role === 'worker' ? 'info' : 'warn',
        ...this.env,
      },
      join(this.stack.opts.logDir, `${this.scenario}-${name}.log`),
      this.stack.apiPort,
    );
  }
}

const AREAS = ['202', '212', '312', '415', '617', '713', '305', '206', '303', '404', '503', '602'];
const AREAS_MORE = ['702', '801', '816', '919', '210', '512', '614', '720'];

/**
 * Distinct valid US numbers (NXX-555-xxxx over many area codes), `count` of them from `offset`;
 * each is checked with the service's own validation so a bad generator fails loudly.
 */
export function phoneNumbers(count: number, offset: number): string[] {
  const areas = [...AREAS, ...AREAS_MORE];
  return Array.from({ length: count }, (_, i) => {
    const k = offset + i;
    const n = `+1${areas[Math.floor(k / 10_000) % areas.length]}555${String(k % 10_000).padStart(4, '0')}`;
    const v = validatePhoneNumber(n, 'US');
    if (!v.valid || v.e164 !== n) throw new Error(`generated number ${n} is not valid`);
    return n;
  });
}
