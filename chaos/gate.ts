/**
 * An HTTP front on a fixed port for one fake provider, so a scenario can take the provider down
 * in the ways real ones go down and bring it back on the same address:
 * - up: requests pass through to the fake (which records what "went out");
 * - unavailable: the provider's own 503 error body, nothing reaches the fake;
 * - refuse: nothing listens (connection refused);
 * - hang: requests are held without an answer (the service's timeout decides).
 */
import { Agent, createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import type { Answer } from '../test/fakes/fake-http';

export type GateMode = 'up' | 'unavailable' | 'refuse' | 'hang';

/**
 * Added to each request the gate passes on: when it reached the gate (ms since the epoch). The
 * gate is the provider's front door, so this is the moment of the provider call; the relay to the
 * fake behind it is the test bed's own hop, and on a saturated host it took 55–190 ms (p50).
 */
export const RECEIVED_AT_HEADER = 'x-chaos-gate-received-at';

export class ProviderGate {
  /** Requests seen in each mode (refused connections are not seen). */
  readonly seen: Record<GateMode, number> = { up: 0, unavailable: 0, refuse: 0, hang: 0 };
  private server?: Server;
  private port = 0;
  private current: GateMode = 'up';
  private readonly held = new Set<ServerResponse>();
  /**
   * Pooled connections to the fake, which keeps idle ones for 120 s (FakeHttpServer). With Node's
   * 5 s idle timeout, a pooled socket the fake closed, reused at that moment, was reset, and the
   * gate could only pass that on as ECONNRESET, which the service rightly takes for a provider
   * failure (6 of 5,000 in a topology run); a connection per request instead cost the busy driver
   * a connect and an accept for every message.
   */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512 });

  constructor(
    readonly name: string,
    private readonly target: string,
    private readonly unavailable: Answer,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get mode(): GateMode {
    return this.current;
  }

  async start(): Promise<string> {
    await this.listen();
    return this.url;
  }

  async set(mode: GateMode): Promise<void> {
    if (mode === this.current) return;
    const previous = this.current;
    this.current = mode;
    if (previous === 'hang') {
      for (const res of this.held) res.destroy();
      this.held.clear();
    }
    if (mode === 'refuse') await this.close();
    else if (previous === 'refuse') await this.listen();
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.held.clear();
    await this.close();
    this.agent.destroy();
  }

  private async listen(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    // Idle keep-alive connections from the service stay open as a real provider's front keeps
    // them (Node's 5 s default races the service's reuse of a pooled socket: ECONNRESET).
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 125_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const receivedAt = Date.now();
    const mode = this.current;
    this.seen[mode] += 1;
    if (mode === 'hang') {
      this.held.add(res);
      req.resume();
      return;
    }
    if (mode === 'unavailable' || mode === 'refuse') {
      req.resume();
      res.writeHead(this.unavailable.status, { 'Content-Type': this.unavailable.contentType });
      res.end(this.unavailable.body);
      return;
    }
    const upstream = request(
      `${this.target}${req.url ?? '/'}`,
      {
        method: req.method,
        headers: { ...req.headers, [RECEIVED_AT_HEADER]: String(receivedAt) },
        agent: this.agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
