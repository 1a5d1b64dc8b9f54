import { createHash } from 'node:crypto';
import { relative } from 'node:path';

/**
 * Each test file gets a Redis prefix of its own under the run's (the suites run one after another
 * in one process, so this is set before each file loads). A suite's leftover Bull jobs, provider-
 * down flags and rate-limit counters then cannot reach the next suite's apps; the database is
 * still shared by the run (fresh tenant ids keep suites apart there).
 */
const base = process.env.SMS_TEST_REDIS_BASE;
if (base) {
  const file = relative(process.cwd(), expect.getState().testPath ?? '');
  process.env.REDIS_PREFIX = `${base}-${createHash('sha256').update(file).digest('hex').slice(0, 8)}`;
}
