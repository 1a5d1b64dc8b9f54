import { Controller, Get, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Roles } from '../../auth/decorators';
import { Principal, ROLE_ADMIN } from '../../auth/principal';
import { ApiErrors } from '../../common/api-errors';
import { Clock } from '../../common/clock';
import { DateTimeWithOffset } from '../../common/dto-fields';
import { ValidationFailedError } from '../../common/errors';
import { IsOptional } from 'class-validator';
import { iysCsv } from './consent-rules';
import { ConsentService } from './consent.service';

export class ConsentExportQueryDto {
  @ApiPropertyOptional({
    type: String,
    example: '2026-12-01T00:00:00+03:00',
    description: 'changes recorded at or after (ISO 8601 with offset); absent: from the first',
  })
  @IsOptional()
  @DateTimeWithOffset()
  from?: Date;

  @ApiPropertyOptional({
    type: String,
    example: '2026-12-06T00:00:00+03:00',
    description: 'changes recorded before (ISO 8601 with offset); absent: now',
  })
  @IsOptional()
  @DateTimeWithOffset()
  to?: Date;
}

@ApiTags('opt-outs')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/consent')
export class ConsentController {
  constructor(
    private readonly consent: ConsentService,
    private readonly clock: Clock,
  ) {}

  @Get('export')
  @ApiOperation({
    summary: "The tenant's consent changes as a CSV for İYS (tenant admin)",
    description:
      'Every change of SMS consent recorded in [from, to), oldest first, one row per change in the fields of an İYS consent: ' +
      'recipient (+90…), type (MESAJ), source (an HS_… code recorded as the source is kept, a STOP/START text is HS_MESAJ, ' +
      'others are empty), status (ONAY granted, RET revoked), consentDate (YYYY-MM-DD HH:mm:ss, UTC+3), recipientType ' +
      '(BIREYSEL), retailerCode (empty). Numbers outside Turkey and changes to unknown are left out. See docs/privacy.md.',
  })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'text/csv; header first', schema: { type: 'string' } })
  async export(
    @CurrentPrincipal() p: Principal,
    @Query() q: ConsentExportQueryDto,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<string> {
    const to = q.to ?? this.clock.now();
    const from = q.from ?? null;
    if (from !== null && from.getTime() >= to.getTime())
      throw ValidationFailedError.field('from', 'from must be before to');
    const csv = iysCsv(await this.consent.changes(p.tenantId, from, to));
    res.header('Content-Type', 'text/csv; charset=utf-8');
    res.header('Content-Disposition', `attachment; filename="sms-consent-tenant-${p.tenantId}.csv"`);
    return csv;
  }
}
