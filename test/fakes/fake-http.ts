import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  form: Record<string, string>;
  /** Every value of each field, in order (a repeated field such as Twilio's MediaUrl). */
  formAll: Record<string, string[]>;
}

export interface Answer {
  status: number;
  body: string;
  contentType: string;
}

/** 'hang' never answers (a provider that times out). */
export type Script = Answer | 'hang';

/**
 * A loopback HTTP server that records form-encoded requests and answers from a script queue,
 * falling back to a default answer. The base of the Twilio and SNS fakes.
 */
export abstract class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  /**
   * Runs on each request after it is recorded and before it is answered (a test's probe of what
   * the service had written by the time the provider was called); reset() clears it.
   */
  onRequest?: (req: RecordedRequest) => Promise<void>;
  private readonly scripted: Script[] = [];
  private always?: Script;
  private server?: Server;
  private readonly hung = new Set<ServerResponse>();

  protected abstract answer(req: RecordedRequest): Answer;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    // Idle keep-alive connections stay open as a real provider's front keeps them: at Node's 5 s a
    // client reusing a pooled socket the fake has just closed gets ECONNRESET, a failure no
    // provider caused.
    this.server.keepAliveTimeout = 120_000;
    this.server.headersTimeout = 125_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next answers, in order; after them the default (or `always`). */
  next(...scripts: Script[]): this {
    this.scripted.push(...scripts);
    return this;
  }

  /** Answer every request this way until reset(). */
  answerAlways(script: Script): this {
    this.always = script;
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.scripted.length = 0;
    this.always = undefined;
    this.onRequest = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const form = Object.fromEntries(params);
    const formAll: Record<string, string[]> = {};
    for (const [k, v] of params) (formAll[k] ??= []).push(v);
    const recorded = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      form,
      formAll,
    };
    this.requests.push(recorded);
    await this.onRequest?.(recorded);
    const script = this.scripted.shift() ?? this.always ?? this.answer(recorded);
    if (script === 'hang') {
      this.hung.add(res);
      return;
    }
    res.writeHead(script.status, { 'Content-Type': script.contentType });
    res.end(script.body);
  }
}
