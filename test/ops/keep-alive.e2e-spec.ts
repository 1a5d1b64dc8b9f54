import { Agent, request, Server } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, TestApp } from '../support/test-app';

/** One GET on the agent: its status and the client socket it went over. */
function get(
  agent: Agent,
  port: number,
  path: string,
): Promise<{ status: number; socket: Socket; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, socket: req.socket as Socket, reused: req.reusedSocket }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

// A load balancer keeps idle connections to the service open (AWS ALB: 60 s) and reuses them.
// If the service closes one first (Node's default: after 5 s), a request the balancer sends on it
// as it closes fails, and the balancer's client gets a 502.
describe('behind a load balancer', () => {
  let t: TestApp;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    server = t.app.getHttpServer() as Server;
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  it('runs the configured connection timeouts, keep-alive longer than a balancer keeps a connection', () => {
    expect({
      keepAlive: server.keepAliveTimeout,
      headers: server.headersTimeout,
      request: server.requestTimeout,
    }).toEqual({
      keepAlive: t.config.get('HTTP_KEEP_ALIVE_TIMEOUT_MS'),
      headers: t.config.get('HTTP_HEADERS_TIMEOUT_MS'),
      request: t.config.get('HTTP_REQUEST_TIMEOUT_MS'),
    });
    expect(server.keepAliveTimeout).toBeGreaterThan(60_000);
  });

  it('answers on a keep-alive connection reused after 10 s idle', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent, port, '/health');
      expect(first.status).toBe(200);
      await sleep(10_000); // real idle time: the server's idle timer is the thing under test
      const second = await get(agent, port, '/health');
      expect(second.status).toBe(200);
      expect(second.reused).toBe(true);
      expect(second.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  }, 40_000);
});
