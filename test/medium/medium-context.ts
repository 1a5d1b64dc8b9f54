import { Abstract, DynamicModule, ForwardReference, Type } from '@nestjs/common';
import { BullModule } from '@nestjs/bull';
import { Test, TestingModule, TestingModuleBuilder } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Logger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { Principal } from '../../src/auth/principal';
import { Clock } from '../../src/common/clock';
import { ClockModule } from '../../src/common/clock.module';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { dataSourceOptions } from '../../src/database/data-source';
import { HealthModule } from '../../src/health/health.module';
import { LoggingModule } from '../../src/logging/logging.module';
import type { AcceptInput, SendContext } from '../../src/messaging';
import { bullPrefix, bullRedisOptions, RedisModule } from '../../src/redis/redis.module';
import { FakeClock } from '../support/fake-clock';

export type ModuleImport = Type<unknown> | DynamicModule | Promise<DynamicModule> | ForwardReference;

export interface MediumOptions {
  /**
   * The feature modules the code under test lives in; each brings its own imports. A feature that
   * leans on another feature's global module (today PhoneModule, MonitoringModule) lists it too.
   */
  imports: ModuleImport[];
  /** Settings on top of the run's (database, Redis prefix, JWT secret from the global setup). */
  env?: Record<string, string>;
  /** Last word on the module, e.g. `b.overrideProvider(X).useValue(y)`. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/** Services and repositories wired as in the app, on the run's PostgreSQL and Redis. */
export interface MediumContext {
  module: TestingModule;
  config: AppConfig;
  /** The Clock every service of the context reads; starts at the real time, moved by `advance`. */
  clock: FakeClock;
  ds: DataSource;
  get: <T>(type: Type<T> | Abstract<T>) => T;
  close: () => Promise<void>;
}

/**
 * The medium tier's context: the platform every feature leans on (config, clock, logging, the
 * database, Bull's connection, Redis, health) plus the feature modules a test names, compiled and
 * initialised without an HTTP server. The role is `api` whatever `env` says, so no worker loop,
 * cron or queue processor runs: a test calls the service, then reads what it wrote.
 */
export async function createMediumContext(opts: MediumOptions): Promise<MediumContext> {
  const config = loadConfig({ ...process.env, ...opts.env, APP_ROLE: 'api', METRICS_PORT: '0' });
  const clock = new FakeClock();
  let builder = Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      ClockModule,
      LoggingModule,
      TypeOrmModule.forRoot({
        ...dataSourceOptions(config.get('DATABASE_URL'), config.get('DATABASE_POOL_SIZE')),
        migrationsRun: false,
        // As the app: the entities are those the imported features register (forFeature).
        autoLoadEntities: true,
      }),
      BullModule.forRoot({ redis: bullRedisOptions(config), prefix: bullPrefix(config) }),
      RedisModule,
      HealthModule,
      ...opts.imports,
    ],
  })
    .overrideProvider(Clock)
    .useValue(clock);
  if (opts.override) builder = opts.override(builder);
  const module = await builder.compile();
  module.useLogger(module.get(Logger)); // services' Nest loggers write through pino, as in the app
  await module.init();
  return {
    module,
    config,
    clock,
    ds: module.get(DataSource),
    get: (type) => module.get(type, { strict: false }),
    close: () => module.close(),
  };
}

/** A caller as the guards would hand it to a controller: a plain user unless roles say otherwise. */
export function principal(tenantId: number, userId = 'u1', roles: string[] = []): Principal {
  return { tenantId, homeTenantId: tenantId, userId, roles };
}

/** What a controller passes to the accept path for a request (route and body bind an Idempotency-Key). */
export function sendContext(
  who: Principal,
  opts: { route?: string; body?: unknown; idempotencyKey?: string } = {},
): SendContext {
  return {
    principal: who,
    route: opts.route ?? 'POST /api/sms/send',
    requestBody: opts.body ?? {},
    idempotencyKey: opts.idempotencyKey,
  };
}

/**
 * What /send (one number: `mode` single) or /send-bulk (a list: `mode` bulk) hands to
 * AcceptService.accept, with those routes' defaults (general_notification, en).
 */
export function textSend(
  recipients: string | string[],
  body = 'hello',
  extra: Partial<AcceptInput> = {},
): AcceptInput {
  return {
    recipients: typeof recipients === 'string' ? [recipients] : recipients,
    body,
    messageType: 'general_notification',
    language: 'en',
    userId: null,
    statusCallbackUrl: null,
    mode: typeof recipients === 'string' ? 'single' : 'bulk',
    ...extra,
  };
}
