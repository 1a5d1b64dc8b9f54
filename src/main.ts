import 'reflect-metadata';
import { applyHeapGrowth } from './common/heap-growth'; // first: before the app's modules fill the heap
import { lightenAsyncResourceBind } from './common/async-bind';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { tuneHttpServer } from './common/http-server';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { loadDotEnv } from './config/dotenv';
import { withJwtSecretFile } from './config/secret-file';
import { configureApp, createHttpAdapter } from './configure-app';
import { ensureDatabase, migrate } from './database/bootstrap';
import { QuietStartLogger } from './logging/logging.module';
import { providerOrder } from './providers';

/** The one line a person reads after `npm start`: what runs, where, against what (no secrets). */
export function startupSummary(config: AppConfig, envFile: string | null): string {
  const db = new URL(config.get('DATABASE_URL'));
  const parts = [
    `role ${config.get('APP_ROLE')}`,
    config.runsApi() ? `port ${config.get('PORT')}` : null,
    `providers ${providerOrder(config).join(' > ')}`,
    `database ${db.hostname}:${db.port || '5432'}${db.pathname}`,
    config.runsApi() && config.get('API_DOCS') !== 'off'
      ? `docs http://localhost:${config.get('PORT')}/api/docs`
      : null,
    envFile ? 'settings from .env' : null,
  ];
  return `sms-service started: ${parts.filter(Boolean).join(', ')}`;
}

async function bootstrap(config: AppConfig, envFile: string | null): Promise<void> {
  // Fastify and Nest bind per request; Node 20's bind builds deprecation wrappers each time.
  lightenAsyncResourceBind();
  if (config.get('DB_MIGRATE_ON_START')) {
    await ensureDatabase(config.get('DATABASE_URL'));
    await migrate(config.get('DATABASE_URL'));
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    createHttpAdapter(config.get('TRUST_PROXY')),
    {
      bufferLogs: true,
      bodyParser: false,
    },
  );
  app.useLogger(new QuietStartLogger(app.get(Logger)));
  configureApp(app);
  tuneHttpServer(app.getHttpServer(), config);
  // Every interface, IPv6 and IPv4, as Express listened (Fastify's default is localhost only).
  if (config.runsApi()) await app.listen(config.get('PORT'), '::');
  else await app.init();
  app.get(Logger).log(startupSummary(config, envFile), 'Bootstrap');
}

if (require.main === module) {
  const envFile = loadDotEnv();
  let config: AppConfig;
  try {
    const { env, file } = withJwtSecretFile(process.env);
    config = loadConfig(env);
    if (file?.created)
      console.error(`JWT_SECRET is not set: generated a random one into ${file.path} (mode 0600)`);
  } catch (e) {
    // One clear message naming the bad variables, no stack trace.
    console.error(e instanceof ConfigError ? e.message : e);
    process.exit(1);
  }
  applyHeapGrowth(config.get('APP_ROLE')); // the role `.env` may have set
  bootstrap(config, envFile).catch((e: unknown) => {
    console.error('failed to start:', e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
