import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config';

/** Reconnect quickly (100 ms, 200 ms, ... at most 1 s apart) so service resumes soon after Redis returns. */
export function reconnectDelay(times: number): number {
  return Math.min(times * 100, 1000);
}

/**
 * Fail fast: a command waits at most REDIS_COMMAND_TIMEOUT_MS (offline or not), and is given up
 * after one reconnection attempt, so a request answers 503 within a second instead of hanging.
 */
export function redisClientOptions(config: AppConfig): RedisOptions {
  return {
    maxRetriesPerRequest: 1,
    commandTimeout: config.get('REDIS_COMMAND_TIMEOUT_MS'),
    connectTimeout: config.get('REDIS_CONNECT_TIMEOUT_MS'),
    retryStrategy: reconnectDelay,
    enableAutoPipelining: true,
  };
}

/** REDIS_URL as ioredis connection options (Bull takes options, not a URL, when tuned). */
export function redisConnectionOptions(redisUrl: string): RedisOptions {
  const u = new URL(redisUrl);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Bull's connections. Its `client` (adds jobs, moves them) fails fast like ours: one retry, a
 * connect timeout. Its blocking `bclient` and `subscriber` must keep `maxRetriesPerRequest: null`
 * and no ready check (Bull enforces it and sets them itself), so workers simply wait for Redis
 * and resume on their own when it returns; the quick reconnect strategy bounds that wait.
 * No command timeout here: it would also cut Bull's blocking BRPOPLPUSH.
 */
export function bullRedisOptions(config: AppConfig): RedisOptions {
  return {
    ...redisConnectionOptions(config.get('REDIS_URL')),
    maxRetriesPerRequest: 1,
    enableReadyCheck: false,
    connectTimeout: config.get('REDIS_CONNECT_TIMEOUT_MS'),
    retryStrategy: reconnectDelay,
  };
}

/**
 * The one Redis connection for counters (rate limits) and short-lived state. Bull opens its own.
 * Every key goes through `key()` so a deployment (or a test run) owns its prefix.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis;
  private readonly prefix: string;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.client = new Redis(config.get('REDIS_URL'), redisClientOptions(config));
    // Keep the process alive on a Redis outage: readiness reports it, callers get errors.
    this.client.on('error', () => undefined);
    this.prefix = config.get('REDIS_PREFIX');
  }

  /**
   * Connected and ready now. While Redis is down a command would wait for its timeout first;
   * callers that must answer within a second ask this instead and decide at once.
   */
  isUp(): boolean {
    return this.client.status === 'ready';
  }

  key(...parts: (string | number)[]): string {
    return `${this.prefix}:${parts.join(':')}`;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

/** Bull's key prefix: hash-tagged so every queue key lands in one Redis Cluster slot. */
export function bullPrefix(config: AppConfig): string {
  return `{${config.get('REDIS_PREFIX')}}`;
}

@Global()
@Module({ providers: [RedisService], exports: [RedisService] })
export class RedisModule {}
