import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/decorators';
import { AppConfig } from '../config/app-config';
import { MetricsService } from './metrics.service';

/** True when the request may read the metrics: no METRICS_TOKEN set, or its bearer token. */
export function metricsAuthorized(token: string | undefined, authorization: string | undefined): boolean {
  if (!token) return true;
  const m = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(m[1]).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** Prometheus scrape endpoint (text exposition format). Not a JWT route: see metricsAuthorized. */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    if (!metricsAuthorized(this.config.get('METRICS_TOKEN'), req.headers.authorization)) {
      void res
        .status(401)
        .send({ statusCode: 401, error: 'Unauthorized', message: 'missing or invalid metrics token' });
      return;
    }
    void res.header('Content-Type', this.metrics.contentType).send(await this.metrics.text());
  }
}
