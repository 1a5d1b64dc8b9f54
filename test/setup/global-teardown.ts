import Redis from 'ioredis';
import { dropDatabase } from '../../src/database/bootstrap';

export default async function globalTeardown(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  const prefix = process.env.REDIS_PREFIX;
  if (process.env.KEEP_TEST_DB !== 'true' && databaseUrl?.includes('/sms_test_'))
    await dropDatabase(databaseUrl);
  if (prefix?.startsWith('sms-test-')) {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    // Plain keys are `prefix:...`, Bull's are `{prefix}:...`, a delivery shard's `{prefix:sms:n}:...`.
    for (const pattern of [`${prefix}:*`, `{${prefix}}:*`, `{${prefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    await redis.quit();
  }
}
