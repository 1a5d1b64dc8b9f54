import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { Writable } from 'node:stream';
import { Logger } from 'nestjs-pino';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { AppModule } from '../../src/app.module';
import { signToken } from '../../src/auth/tokens';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { tuneHttpServer } from '../../src/common/http-server';
import { configureApp, createHttpAdapter } from '../../src/configure-app';
import { LOG_DESTINATION, QuietStartLogger } from '../../src/logging/logging.module';

// Shared with the medium tier, which must not load the whole app to get an id.
export { freshTenantId } from './ids';

export interface TokenOptions {
  tenant: number;
  user?: string | number;
  roles?: string[];
  expiresInSeconds?: number;
  /** The token's `test_mode` claim. */
  testMode?: boolean;
}

/** Collects every log line the app writes (for "no secret in any log line" tests). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  http: () => TestAgent;
  token: (opts: TokenOptions) => string;
  /** Authorization header for a token. */
  auth: (opts: TokenOptions) => { Authorization: string };
  get: <T>(type: new (...args: never[]) => T) => T;
  close: () => Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  logs?: LogCapture;
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Modules beside the app's, e.g. a global one binding an optional port (ConversionObserver). */
  imports?: ModuleMetadata['imports'];
}

/** Boots the real app (all roles) against the run's PostgreSQL database and Redis prefix. */
export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const env = { ...process.env, ...opts.env };
  if (opts.logs && !opts.env?.LOG_LEVEL) env.LOG_LEVEL = 'info';
  const config = loadConfig(env);
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config), ...(opts.imports ?? [])] });
  if (opts.logs) builder = builder.overrideProvider(LOG_DESTINATION).useValue(opts.logs);
  if (opts.override) builder = opts.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createHttpAdapter(config.get('TRUST_PROXY')),
    {
      bodyParser: false,
      bufferLogs: true,
    },
  );
  app.useLogger(new QuietStartLogger(app.get(Logger))); // Nest's own log lines go through pino, as in main.ts
  configureApp(app);
  tuneHttpServer(app.getHttpServer(), config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready(); // Fastify's routes and plugins, before supertest calls
  const token = (t: TokenOptions) =>
    signToken(
      {
        sub: String(t.user ?? 1),
        tenant_id: t.tenant,
        roles: t.roles ?? [],
        ...(t.testMode === undefined ? {} : { test_mode: t.testMode }),
      },
      config.get('JWT_SECRET'),
      {
        expiresInSeconds: t.expiresInSeconds,
      },
    );
  return {
    app,
    config,
    http: () => request(app.getHttpServer()),
    token,
    auth: (t) => ({ Authorization: `Bearer ${token(t)}` }),
    get: (type) => app.get(type),
    close: () => app.close(),
  };
}
