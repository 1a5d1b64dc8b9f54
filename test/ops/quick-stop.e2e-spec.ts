import { createServer, Server, Socket, connect } from 'node:net';
import { freePort } from '../support/own-services';
import { createTestApp } from '../support/test-app';

/**
 * A process stopped right after it started, while its queue connections are still coming up
 * (a slow Redis, a deploy that is rolled back at once), stops cleanly. Bull leaves promises of its
 * own unhandled when a queue closes mid-start; an unhandled rejection would end the process, and
 * jest fails this test on one.
 */
describe('a stop right after the start', () => {
  let proxy: Server;
  let url: string;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Every new Redis connection is held for 400 ms before it reaches the real Redis.
    const target = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    proxy = createServer((client) => {
      sockets.add(client);
      client.pause();
      setTimeout(() => {
        const upstream = connect(Number(target.port || 6379), target.hostname);
        sockets.add(upstream);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      }, 400);
    });
    const port = await freePort();
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', () => r()));
    url = `redis://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => proxy.close(() => r()));
  });

  it('closes an app whose queues are still connecting without an unhandled rejection', async () => {
    for (let i = 0; i < 3; i++) {
      const t = await createTestApp({ env: { REDIS_URL: url } });
      await t.close();
    }
    // Anything Bull left pending would reject now, while this test still runs.
    await new Promise((r) => setTimeout(r, 1_500));
  }, 90_000); // three app boots behind a slow Redis: ~12 s alone, much more on a loaded CI host
});
