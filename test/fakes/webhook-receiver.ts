import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received (what the signature covers). */
  raw: string;
  json: { id: string; type: string; created_at: string; data: Record<string, unknown> };
}

/**
 * A platform's webhook receiver on 127.0.0.1: records every POST (raw body and headers) and
 * answers with scripted statuses per path (default 200).
 */
export class WebhookReceiver {
  readonly received: ReceivedCallback[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server?: Server;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, raw, json: JSON.parse(raw) });
        const status = this.scripts.get(path)?.shift() ?? 200;
        res.writeHead(status, { 'Content-Type': 'text/plain', Location: 'http://127.0.0.1:1/elsewhere' });
        res.end(`answer ${status}: a body the service must not store`);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** The next answers on `path`, in order (then 200). */
  answer(path: string, ...statuses: number[]): void {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...statuses]);
  }

  on(path: string): ReceivedCallback[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
