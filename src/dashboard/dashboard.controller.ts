import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
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

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
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
  index(@Res() res: Response): void {
    securityHeaders(res);
    if (!this.dir) {
      res
        .status(404)
        .json({ statusCode: 404, error: 'Not Found', message: 'dashboard not built: run npm run build:web' });
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(this.dir, 'index.html'));
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    securityHeaders(res);
    const assets = this.dir ? join(this.dir, 'assets') : null;
    const path = assets ? resolve(assets, file) : null;
    if (!assets || !path || !path.startsWith(assets + sep) || !HASHED_ASSET.test(file) || !existsSync(path)) {
      res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'no such asset' });
      return;
    }
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.sendFile(path);
  }
}
