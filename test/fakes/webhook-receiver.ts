import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received (what the signature covers). */
  raw: string;
  json: { id: string; type: string; created_at: string; data: Record<string, unknown> };
  /** When the body had arrived (Date.now()). */
  at: number;
}

/**
 * A platform's webhook receiver on 127.0.0.1: records every POST (raw body and headers) and
 * answers with scripted statuses per path (default 200), or never answers on a path told to hang.
 * It counts the requests open on each path (arrived, not answered, not given up by the caller)
 * and the most ever open at once.
 */
export class WebhookReceiver {
  readonly received: ReceivedCallback[] = [];
  private readonly scripts = new Map<string, number[]>();
  private readonly hanging = new Set<string>();
  private readonly open = new Map<string, Set<ServerResponse>>();
  private readonly peak = new Map<string, number>();
  private server?: Server;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      const open = this.open.get(path) ?? new Set<ServerResponse>();
      this.open.set(path, open);
      open.add(res);
      this.peak.set(path, Math.max(this.peak.get(path) ?? 0, open.size));
      res.on('close', () => open.delete(res));
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.received.push({ path, headers: req.headers, raw, json: JSON.parse(raw), at: Date.now() });
        if (this.hanging.has(path)) return; // no answer: the caller's timeout ends it
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

  /** From now on requests to `path` get no answer (the requests already open stay open too). */
  hang(path: string): void {
    this.hanging.add(path);
  }

  /** Requests to `path` are answered again from now on; those left hanging stay so. */
  release(path: string): void {
    this.hanging.delete(path);
  }

  /** Requests on `path` open right now (not answered, not closed by the caller). */
  openOn(path: string): number {
    return this.open.get(path)?.size ?? 0;
  }

  /** The most requests ever open at once on `path`. */
  mostOpenOn(path: string): number {
    return this.peak.get(path) ?? 0;
  }

  on(path: string): ReceivedCallback[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    for (const open of this.open.values()) for (const res of open) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
