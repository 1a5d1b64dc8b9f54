import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { Principal, ROLE_ADMIN } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import {
  decodeUserCursor,
  encodeUserCursor,
  ListRecipientsQueryDto,
  PutConsentDto,
  PutRecipientsDto,
  PutRecipientsResponseDto,
  RecipientPageDto,
  RecipientResponseDto,
  toRecipientResponse,
} from './recipients.dto';
import { RecipientsService } from './recipients.service';

@ApiTags('campaigns')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/recipients')
export class RecipientsController {
  constructor(private readonly recipients: RecipientsService) {}

  @Put()
  @HttpCode(200)
  @ApiOperation({
    summary: "Upsert the tenant's recipient directory (tenant admin)",
    description:
      'Up to 10,000 rows per request, stored in one statement; idempotent. A bad row is listed in `rejected` with its reason (invalid_user_id, invalid_phone, invalid_roles, invalid_tags, invalid_language, invalid_timezone, invalid_attributes, invalid_active); the rest are stored. The `consent` of a row ({sms: {status, source?, at?}}) sets the consent of its number for promotional texts; a bad one is a 400 naming the field (recipients[i].consent.sms.status) and nothing is stored (docs/privacy.md).',
  })
  @ApiOkResponse({ type: PutRecipientsResponseDto })
  put(@CurrentPrincipal() p: Principal, @Body() dto: PutRecipientsDto): Promise<PutRecipientsResponseDto> {
    return this.recipients.upsert(p.tenantId, dto.recipients, p);
  }

  @Get()
  @ApiOperation({
    summary: 'List recipients by user_id, filtered by role, language and tag',
    description: 'Tenant admin. Ordered by user_id, cursor paging; each filter narrows the list.',
  })
  @ApiOkResponse({ type: RecipientPageDto })
  async list(
    @CurrentPrincipal() p: Principal,
    @Query() q: ListRecipientsQueryDto,
  ): Promise<RecipientPageDto> {
    const limit = q.limit ?? 100;
    const rows = await this.recipients.list(p.tenantId, {
      roles: q.role ? [q.role] : undefined,
      languages: q.language ? [q.language] : undefined,
      tags: q.tag ? [q.tag] : undefined,
      after: q.cursor ? decodeUserCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(toRecipientResponse),
      next_cursor: rows.length > limit ? encodeUserCursor(page[page.length - 1].userId) : null,
    };
  }

  @Get(':userId')
  @ApiOperation({
    summary: 'One recipient of the directory',
    description: "Tenant admin. By the platform's user_id; unknown is a 404.",
  })
  @ApiOkResponse({ type: RecipientResponseDto })
  async get(
    @CurrentPrincipal() p: Principal,
    @Param('userId') userId: string,
  ): Promise<RecipientResponseDto> {
    return toRecipientResponse(await this.recipients.get(p.tenantId, userId));
  }

  @Put(':userId/consent')
  @ApiOperation({
    summary: "Set a recipient's consent for promotional texts",
    description:
      "Tenant admin. `{sms: {status: granted|revoked|unknown, source?, at?}}` for the recipient's number (entries sharing a number share it). A change is kept in the append-only consent history and audited; the same status again changes nothing. Unknown recipient: 404; a bad value: 400 naming the field. See docs/privacy.md.",
  })
  @ApiOkResponse({ type: RecipientResponseDto })
  async putConsent(
    @CurrentPrincipal() p: Principal,
    @Param('userId') userId: string,
    @Body() dto: PutConsentDto,
  ): Promise<RecipientResponseDto> {
    return toRecipientResponse(await this.recipients.setConsent(p.tenantId, userId, dto, p));
  }

  @Delete(':userId')
  @ApiOperation({
    summary: 'Remove a recipient from the directory',
    description: 'Tenant admin. Audited; unknown is a 404.',
  })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'removed' })
  async delete(@CurrentPrincipal() p: Principal, @Param('userId') userId: string): Promise<void> {
    await this.recipients.delete(p.tenantId, userId, p);
  }
}
