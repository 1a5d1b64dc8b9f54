import { Controller, Get, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiProperty,
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
import { IsOptional, IsString, Length } from 'class-validator';
import { PhoneService } from '../../phone';
import { CONSENT_CHANNELS, CONSENT_STATUSES, iysCsv, UNKNOWN_CONSENT } from './consent-rules';
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

export class ConsentLookupQueryDto {
  @ApiProperty({ example: '+905321234567', description: 'the number (any form the service accepts)' })
  @IsString()
  @Length(1, 64)
  phone_number: string;
}

export class ConsentStateDto {
  @ApiProperty({ enum: CONSENT_STATUSES, example: 'granted' }) status: string;
  @ApiProperty({ type: String, nullable: true, example: 'HS_WEB' }) source: string | null;
  @ApiProperty({ type: String, nullable: true, example: '2026-12-01T06:30:00.000Z' }) at: string | null;
}

export class ConsentChannelsDto {
  @ApiProperty({ type: ConsentStateDto }) sms: ConsentStateDto;
}

export class ConsentEventDto {
  @ApiProperty({ enum: CONSENT_CHANNELS }) channel: string;
  @ApiProperty({ enum: CONSENT_STATUSES }) status: string;
  @ApiProperty({ example: 'HS_WEB' }) source: string;
  @ApiProperty({ description: 'when the person gave or withdrew it' }) at: string;
  @ApiProperty({ description: 'when the service recorded it' }) recorded_at: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "the admin's user id, or the number for a STOP/START text",
  })
  actor: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'the STOP/START word, for a text' })
  keyword: string | null;
}

export class NumberConsentDto {
  @ApiProperty({ example: '+905321234567' }) phone_number: string;
  @ApiProperty({
    type: ConsentChannelsDto,
    description: 'the current consent per channel (never recorded: unknown)',
  })
  consent: ConsentChannelsDto;
  @ApiProperty({
    description:
      "whether the tenant's promotional texts to this number need granted consent (its promotional_consent and the number's country)",
  })
  promotional_consent_required: boolean;
  @ApiProperty({ type: [ConsentEventDto], description: 'every change, oldest first' })
  history: ConsentEventDto[];
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
    private readonly phone: PhoneService,
  ) {}

  @Get()
  @ApiOperation({
    summary: "One number's consent for promotional texts and its history (tenant admin)",
    description:
      "The tenant's current consent of the number per channel (unknown when never recorded), whether its promotional texts to the number need granted consent, and every change (append-only history), oldest first. A number that is not valid: 400 naming phone_number. See docs/privacy.md.",
  })
  @ApiOkResponse({ type: NumberConsentDto })
  async lookup(
    @CurrentPrincipal() p: Principal,
    @Query() q: ConsentLookupQueryDto,
  ): Promise<NumberConsentDto> {
    const v = this.phone.forSend(q.phone_number);
    if (!v.valid)
      throw ValidationFailedError.field('phone_number', `phone_number is not valid (${v.reason})`);
    const [current, required, history] = await Promise.all([
      this.consent.of(p.tenantId, [v.e164], 'sms'),
      this.consent.required(p.tenantId, v.country),
      this.consent.history(p.tenantId, v.e164),
    ]);
    const sms = current.get(v.e164) ?? UNKNOWN_CONSENT;
    return {
      phone_number: v.e164,
      consent: { sms: { status: sms.status, source: sms.source, at: sms.at?.toISOString() ?? null } },
      promotional_consent_required: required,
      history: history.map((h) => ({
        ...h,
        at: h.at.toISOString(),
        recorded_at: h.recorded_at.toISOString(),
      })),
    };
  }

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
