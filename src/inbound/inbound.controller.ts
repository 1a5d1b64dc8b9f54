import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { Principal, ROLE_ADMIN } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import {
  checkInboundDate,
  decodeInboundCursor,
  encodeInboundCursor,
  InboundPageDto,
  InboundQueryDto,
  toInboundMessage,
} from './inbound.dto';
import { InboundService } from './inbound.service';

@ApiTags('inbound')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/inbound')
export class InboundController {
  constructor(private readonly inbound: InboundService) {}

  @Get()
  @ApiOperation({
    summary: "Texts recipients sent to the tenant's numbers, newest first",
    description:
      'A text belongs to the tenant that last messaged its sender; keyword is stop, start or help when the whole text was one.',
  })
  @ApiOkResponse({ type: InboundPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: InboundQueryDto): Promise<InboundPageDto> {
    checkInboundDate('since', q.since);
    checkInboundDate('until', q.until);
    const limit = q.limit ?? 50;
    const rows = await this.inbound.list(p.tenantId, {
      from: q.from,
      keyword: q.keyword,
      since: q.since,
      until: q.until,
      before: q.cursor ? decodeInboundCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(toInboundMessage),
      next_cursor: rows.length > limit ? encodeInboundCursor(page[page.length - 1]) : null,
    };
  }
}
