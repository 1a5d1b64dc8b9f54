import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service';

/**
 * Times every HTTP request, labelled by the route PATTERN Express matched (`/api/sms/:id`, never
 * the concrete path with ids or numbers), method and status. A middleware, not an interceptor, so
 * requests refused by guards (401, 403, 429) count too; unmatched paths are `unmatched`.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const end = this.metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      end({
        method: req.method,
        route: typeof route === 'string' ? `${req.baseUrl ?? ''}${route}` : 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  }
}
