import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { AppConfig } from '../config/app-config';
import { metricsAuthorized } from './metrics.controller';
import { MetricsService } from './metrics.service';

/**
 * The worker role serves no HTTP API, so its metrics get a tiny server of their own on
 * METRICS_PORT (GET /metrics only, same METRICS_TOKEN rule). The api and all roles serve
 * /metrics on PORT and start nothing here, and neither does a one-shot job (`npm run job`: this
 * provider is only in the long-running worker's MonitoringWorkerModule).
 *
 * Two workers on one host: the second finds METRICS_PORT taken and does not start, with a message
 * that says so. Give each worker its own METRICS_PORT, or METRICS_PORT=0 for no metrics server.
 */
@Injectable()
export class WorkerMetricsServer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerMetricsServer.name);
  private server: Server | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /** Listens before any job or queue worker starts (they start at bootstrap), so a conflict stops the start cleanly. */
  async onModuleInit(): Promise<void> {
    if (this.config.runsApi() || this.config.get('METRICS_PORT') === 0) return;
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      if (!metricsAuthorized(this.config.get('METRICS_TOKEN'), req.headers.authorization)) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            statusCode: 401,
            error: 'Unauthorized',
            message: 'missing or invalid metrics token',
          }),
        );
        return;
      }
      this.metrics.text().then(
        (body) => res.writeHead(200, { 'Content-Type': this.metrics.contentType }).end(body),
        (e: unknown) => {
          this.logger.warn({ err: String(e) }, 'metrics scrape failed');
          res.writeHead(500).end();
        },
      );
    });
    const port = this.config.get('METRICS_PORT');
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(listenProblem(port, e))));
      server.listen(port, () => resolve());
    });
    this.server = server;
    this.logger.log(`worker metrics on :${port}/metrics`);
  }

  /** The port the server listens on, or null when not started. */
  port(): number | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  async onApplicationShutdown(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** Why the metrics server could not listen, naming the setting that picks its port and the ways out. */
export function listenProblem(port: number, e: NodeJS.ErrnoException): string {
  const fix = 'give each worker on a host its own METRICS_PORT, or set METRICS_PORT=0 to run without one';
  if (e.code === 'EADDRINUSE')
    return `METRICS_PORT ${port} is already in use (another worker on this host?): ${fix}`;
  return `worker metrics server cannot listen on METRICS_PORT ${port} (${e.code ?? e.message}): ${fix}`;
}
