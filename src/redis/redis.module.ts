import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/**
 * The one Redis connection for counters (rate limits) and short-lived state. Bull opens its own.
 * Every key goes through `key()` so a deployment (or a test run) owns its prefix.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis;
  private readonly prefix: string;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.client = new Redis(config.get('REDIS_URL'), { maxRetriesPerRequest: 2, enableAutoPipelining: true });
    // Keep the process alive on a Redis outage: readiness reports it, callers get errors.
    this.client.on('error', () => undefined);
    this.prefix = config.get('REDIS_PREFIX');
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
