import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createReadStream, existsSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { Public } from '../auth/decorators';

/**
 * The dashboard's policy: scripts, styles, images and API calls from this origin only; no inline
 * script or style, no plugins, no framing, no <base>. The page calls only the public REST API.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Where `npm run build:web` wrote the page: dist/dashboard, from dist/src/dashboard or from src/dashboard (ts-jest). */
export function dashboardDir(): string | null {
  for (const dir of [resolve(__dirname, '../../dashboard'), resolve(__dirname, '../../dist/dashboard')]) {
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

const HASHED_ASSET = /^[A-Za-z0-9_.-]+-[A-Za-z0-9_-]{8,}\.(js|css|svg|png|woff2?)$/;

const SECURITY_HEADERS = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

function sendFile(reply: FastifyReply, path: string, cacheControl: string): void {
  void reply
    .header('Cache-Control', cacheControl)
    .type(CONTENT_TYPES[extname(path)] ?? 'application/octet-stream')
    .send(createReadStream(path));
}

function notFound(reply: FastifyReply, message: string): void {
  void reply.status(404).send({ statusCode: 404, error: 'Not Found', message });
}

/**
 * Serves the built single-page app at /dashboard: index.html never cached (it names the current
 * assets), hashed assets cached for a year. Public: the page holds no data; the API checks the
 * token on every call.
 */
@ApiExcludeController()
@Public()
@Controller('dashboard')
export class DashboardController {
  private readonly dir = dashboardDir();

  @Get()
  index(@Res() reply: FastifyReply): void {
    reply.headers(SECURITY_HEADERS);
    if (!this.dir) return notFound(reply, 'dashboard not built: run npm run build:web');
    sendFile(reply, join(this.dir, 'index.html'), 'no-cache');
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    reply.headers(SECURITY_HEADERS);
    const assets = this.dir ? join(this.dir, 'assets') : null;
    const path = assets ? resolve(assets, file) : null;
    if (!assets || !path || !path.startsWith(assets + sep) || !HASHED_ASSET.test(file) || !existsSync(path))
      return notFound(reply, 'no such asset');
    sendFile(reply, path, 'public, max-age=31536000, immutable');
  }
}
