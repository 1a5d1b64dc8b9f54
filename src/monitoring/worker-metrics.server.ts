import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { AppConfig } from '../config/app-config';
import { metricsAuthorized } from './metrics.controller';
import { MetricsService } from './metrics.service';

/**
 * The worker role serves no HTTP API, so its metrics get a tiny server of their own on
 * METRICS_PORT (GET /metrics only, same METRICS_TOKEN rule). The api and all roles serve
 * /metrics on PORT and start nothing here.
 */
@Injectable()
export class WorkerMetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerMetricsServer.name);
  private server: Server | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
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
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.get('METRICS_PORT'), () => resolve());
    });
    this.server = server;
    this.logger.log(`worker metrics on :${this.config.get('METRICS_PORT')}/metrics`);
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
