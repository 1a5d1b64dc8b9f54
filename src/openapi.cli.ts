/**
 * `npm run openapi`: writes openapi.json at the repository root from the controllers, without a
 * database, Redis or a listening server (Nest's preview mode builds the module graph but creates
 * no provider).
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { loadConfig } from './config/app-config';
import { createHttpAdapter } from './configure-app';
import { createOpenApiDocument } from './openapi/openapi';

/** The document as the api role serves it, built offline (settings do not change routes). */
export async function buildOpenApiJson(): Promise<string> {
  const config = loadConfig({ APP_ROLE: 'api', NODE_ENV: 'development', LOG_LEVEL: 'silent' });
  const app = await NestFactory.create(AppModule.forRoot(config), createHttpAdapter(), {
    preview: true,
    abortOnError: false,
    logger: false,
  });
  try {
    return `${JSON.stringify(createOpenApiDocument(app), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

export const OPENAPI_FILE = join(__dirname, '..', '..', 'openapi.json');

if (require.main === module) {
  buildOpenApiJson()
    .then((json) => {
      writeFileSync(OPENAPI_FILE, json);
      console.log(`wrote ${OPENAPI_FILE}`);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
