import { BullConnections, RedisService } from '../../src/redis/redis.module';
import type { TestApp } from './test-app';

/**
 * Closes an app that ran on a Redis Cluster (`closing`: its close, when a test started it). Should
 * the close not end within 20 s, cuts the app's cluster clients: left reconnecting for the rest of
 * the run, their listeners pile up on each retry (a full run once ran out of heap).
 */
export async function closeClusterApp(t: TestApp | undefined, closing?: Promise<unknown>): Promise<void> {
  if (!t) return;
  const closed = await Promise.race([
    (closing ?? t.close()).then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 20_000).unref()),
  ]);
  if (closed) return;
  const bull = t.get(BullConnections) as unknown as { clients: Set<{ disconnect(): void }> };
  for (const c of bull.clients) c.disconnect();
  t.get(RedisService).client.disconnect();
}
