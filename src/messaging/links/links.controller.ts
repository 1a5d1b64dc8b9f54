import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeController, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, Public, Roles } from '../../auth/decorators';
import { Principal, ROLE_ADMIN } from '../../auth/principal';
import { ApiErrors } from '../../common/api-errors';
import { Clock } from '../../common/clock';
import { ValidationFailedError } from '../../common/errors';
import { LINK_CODE_PATTERN } from '../../core';
import { ClickRateLimiter } from './click-rate-limiter';
import { LinkStatsQueryDto, LinkStatsResponseDto, linkStatsTotals, toLinkStatsRow } from './links.dto';
import { ClickTarget, LinksRepository } from './links.repository';

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 30;
const MAX_DAYS = 400;

/** Headers of every answer of the redirect: nothing cached, no referrer, no active content. */
const CLICK_HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Robots-Tag': 'noindex, nofollow',
};

const PAGES: Record<Exclude<ClickTarget['kind'], 'redirect'>, { status: number; text: string }> = {
  unknown: { status: 404, text: 'This link does not exist.\n' },
  gone: { status: 410, text: 'This link has expired.\n' },
};

/**
 * The short links' redirect, `GET /l/{code}` (outside /api, public, no token): a 302 to the URL
 * stored for that code, and nowhere else (not an open redirect: the target is never read from the
 * request). Rate-limited per client address (SMS_LINK_CLICK_RATE_LIMIT a minute). HEAD answers the
 * same without counting a click (link previews probe that way). Not in the API contract.
 */
@ApiExcludeController()
@Public()
@Controller('l')
export class LinkRedirectController {
  constructor(
    private readonly links: LinksRepository,
    private readonly limiter: ClickRateLimiter,
    private readonly clock: Clock,
  ) {}

  /** Fastify answers HEAD from this route too: a HEAD redirects the same and counts nothing. */
  @Get(':code')
  async click(
    @Param('code') code: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.limiter.take(req.ip);
    if (!LINK_CODE_PATTERN.test(code)) return answer(reply, { kind: 'unknown' });
    const target =
      req.method === 'HEAD' ? await this.links.peek(code) : await this.links.click(code, this.clock.now());
    return answer(reply, target);
  }
}

function answer(reply: FastifyReply, target: ClickTarget): void {
  reply.headers(CLICK_HEADERS);
  if (target.kind === 'redirect') {
    // As a valid header value: the host in punycode, the rest percent-encoded.
    void reply.redirect(new URL(target.url).href, 302);
    return;
  }
  const page = PAGES[target.kind];
  void reply.status(page.status).type('text/plain; charset=utf-8').send(page.text);
}

@ApiTags('links')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/links')
export class LinkStatsController {
  constructor(
    private readonly links: LinksRepository,
    private readonly clock: Clock,
  ) {}

  @Get('stats')
  @ApiOperation({
    summary:
      'Tracked links: messages with links, messages clicked and click rate per campaign, template or variant',
    description:
      "The acting tenant's messages accepted in the period (UTC days) that carried tracked links (the tenant's link_tracking), " +
      'how many were clicked (a message counts once, at its first click), the click rate, and every hit. Admins; a super_admin ' +
      'for the tenant named by X-Tenant-Id. See docs/sending.md, Tracked links.',
  })
  @ApiOkResponse({ type: LinkStatsResponseDto })
  async stats(
    @CurrentPrincipal() p: Principal,
    @Query() q: LinkStatsQueryDto,
  ): Promise<LinkStatsResponseDto> {
    const { start, end } = this.period(q.start_date, q.end_date);
    const groupBy = q.group_by ?? 'campaign';
    const rows = await this.links.stats(
      p.tenantId,
      new Date(start),
      new Date(end + DAY_MS),
      groupBy,
      q.campaign_id,
    );
    return {
      start_date: isoDay(start),
      end_date: isoDay(end),
      group_by: groupBy,
      totals: linkStatsTotals(rows),
      rows: rows.map(toLinkStatsRow),
    };
  }

  private period(startDate?: string, endDate?: string): { start: number; end: number } {
    const today = Date.parse(`${this.clock.now().toISOString().slice(0, 10)}T00:00:00Z`);
    const end = endDate === undefined ? today : parseDay(endDate);
    if (end === null) throw ValidationFailedError.field('end_date', 'end_date must be a real calendar date');
    const start = startDate === undefined ? end - (DEFAULT_DAYS - 1) * DAY_MS : parseDay(startDate);
    if (start === null)
      throw ValidationFailedError.field('start_date', 'start_date must be a real calendar date');
    if (start > end) throw ValidationFailedError.field('start_date', 'start_date must not be after end_date');
    if ((end - start) / DAY_MS + 1 > MAX_DAYS)
      throw ValidationFailedError.field('end_date', `the period may span at most ${MAX_DAYS} days`);
    return { start, end };
  }
}

function parseDay(s: string): number | null {
  const t = Date.parse(`${s}T00:00:00Z`);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) return null;
  return t;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
