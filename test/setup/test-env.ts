/** The one place the test run's database and Redis prefix are named. */
export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export function testRunId(): string {
  return process.env.SMS_TEST_RUN_ID ?? `${Date.now().toString(36)}_${process.pid}`;
}

export function adminDatabaseUrl(): string {
  return process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function testDatabaseUrl(runId: string): string {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/sms_test_${runId}`;
  return url.toString();
}
