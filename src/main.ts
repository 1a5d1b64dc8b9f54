import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { configureApp } from './configure-app';
import { ensureDatabase, migrate } from './database/bootstrap';

async function bootstrap(config: AppConfig): Promise<void> {
  if (config.get('DB_MIGRATE_ON_START')) {
    await ensureDatabase(config.get('DATABASE_URL'));
    await migrate(config.get('DATABASE_URL'));
  }
  const app = await NestFactory.create(AppModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  configureApp(app);
  if (config.runsApi()) {
    await app.listen(config.get('PORT'));
    app.get(Logger).log(`listening on :${config.get('PORT')} (role ${config.get('APP_ROLE')})`, 'Bootstrap');
  } else {
    await app.init();
    app.get(Logger).log('worker started', 'Bootstrap');
  }
}

let config: AppConfig;
try {
  config = loadConfig(process.env);
} catch (e) {
  // One clear message naming the bad variables, no stack trace.
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
}
bootstrap(config).catch((e: unknown) => {
  console.error('failed to start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
