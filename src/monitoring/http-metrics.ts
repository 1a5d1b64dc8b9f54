import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { MetricsService } from './metrics.service';

const STARTED = Symbol('httpMetricsStarted');

/**
 * Times every HTTP request, labelled by the route PATTERN Fastify matched (`/api/sms/:id`, never
 * the concrete path with ids or numbers), method and status. Fastify hooks, not an interceptor, so
 * requests refused by guards (401, 403, 429) or by a body parser (413, 415) count too; unmatched
 * paths are `unmatched`.
 */
@Injectable()
export class HttpMetrics implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addHook) return;
    type Timed = { [STARTED]?: (labels: Record<string, string>) => void };
    fastify.addHook('onRequest', (req, _reply, done) => {
      (req as unknown as Timed)[STARTED] = this.metrics.httpDuration.startTimer();
      done();
    });
    fastify.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url;
      (req as unknown as Timed)[STARTED]?.({
        method: req.method,
        route: route ?? 'unmatched',
        status: String(reply.statusCode),
      });
      done();
    });
  }
}
