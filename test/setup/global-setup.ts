import { ensureDatabase, migrate } from '../../src/database/bootstrap';
import { TEST_JWT_SECRET, testDatabaseUrl, testRunId } from './test-env';

/**
 * A fresh database per run, migrated by the same code the service runs on start, and a Redis
 * key prefix of its own. Workers inherit these variables.
 */
export default async function globalSetup(): Promise<void> {
  const runId = testRunId();
  const databaseUrl = testDatabaseUrl(runId);
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  Object.assign(process.env, {
    SMS_TEST_RUN_ID: runId,
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `sms-test-${runId}`,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DB_MIGRATE_ON_START: 'false',
    // Worker-role test apps open no metrics port (runs from other checkouts share this host);
    // a test of the worker's metrics server picks a free port of its own.
    METRICS_PORT: '0',
    // The reminders (:00, :30) and status (:00) ticks would run, in whichever test app is alive at
    // that minute, over every suite's leftovers in this shared database: other suites' due
    // appointments texted, and their sent messages asked about, through that app's fake
    // providers, which a suite counting its fake's calls then sees. Tests run those jobs directly;
    // here their ticks never come within a run (29 February).
    SMS_REMINDERS_CRON: process.env.SMS_REMINDERS_CRON ?? '0 0 29 2 *',
    SMS_STATUS_CRON: process.env.SMS_STATUS_CRON ?? '0 0 29 2 *',
  });
}
