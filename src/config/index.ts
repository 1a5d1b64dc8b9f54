/** Typed, validated configuration: the SETTINGS catalogue, AppConfig, .env loading and the generated docs of it. */
export * from './app-config';
export * from './config.module';
export * from './dotenv';
export * from './env-example';
export * from './settings-doc';
