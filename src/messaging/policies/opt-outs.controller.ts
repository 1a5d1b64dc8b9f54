import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { AuditService } from '../../audit';
import { CurrentPrincipal, Roles } from '../../auth/decorators';
import { Principal, ROLE_ADMIN } from '../../auth/principal';
import { ApiErrors } from '../../common/api-errors';
import { ValidationFailedError } from '../../common/errors';
import { PhoneService } from '../../phone';
import {
  AnsweredTenant,
  answeredTenant,
  OPT_OUT_SOURCE,
  OptOutsService,
  TEXT_LIFTABLE_SOURCES,
} from './opt-outs.service';

export class AddOptOutDto {
  @ApiProperty({ example: '+12025550123' }) @IsString() @Length(1, 64) phone_number: string;
  @ApiPropertyOptional({ example: 'asked by phone' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  reason?: string;
}

export class OptOutDto {
  @ApiProperty() phone_number: string;
  @ApiProperty({
    example: 'inbound_keyword',
    description:
      'inbound_keyword (a STOP texted to our number: a START text lifts it), provider (the provider refused a send: the recipient opted out with the carrier, Twilio 21610 / SNS OptedOut; only a START the provider reports lifts it) or admin:<user id> (added here: only an admin lifts it)',
  })
  source: string;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({
    enum: ['this_tenant', 'another_tenant'],
    nullable: true,
    description:
      "For a STOP texted to the shared number: whether it answered this tenant's text or another tenant's (the tenant that last texted the number; a STOP opts the number out for every tenant). Null for other sources, or when no tenant had texted the number.",
  })
  answered: AnsweredTenant;
  @ApiProperty() created_at: string;
}

@ApiTags('opt-outs')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/opt-outs')
export class OptOutsController {
  constructor(
    private readonly optOuts: OptOutsService,
    private readonly phone: PhoneService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List opted-out numbers',
    description: 'Admins. Numbers that replied STOP (or were added here); sends to them are refused.',
  })
  @ApiOkResponse({ type: [OptOutDto] })
  async list(@CurrentPrincipal() p: Principal): Promise<OptOutDto[]> {
    return (await this.optOuts.list(p.tenantId)).map((o) => ({
      phone_number: o.phoneNumber,
      source: o.source,
      reason: o.reason,
      answered: answeredTenant(p.tenantId, o.answeredTenantId),
      created_at: o.createdAt.toISOString(),
    }));
  }

  /**
   * Audited (`opt_out.add`, right after the change) unless the number was already listed by an
   * admin. An entry a text could lift (a keyword or provider STOP) becomes the admin's, so that no
   * START text lifts it; the audit's `before` is that entry.
   */
  @Post()
  @ApiOperation({
    summary: 'Opt a number out',
    description:
      "Admins. Adds the number to the tenant's opt-out list (204). A START texted by the recipient never lifts an admin's opt-out; a number already listed by a STOP becomes the admin's entry.",
  })
  @HttpCode(204)
  async add(@CurrentPrincipal() p: Principal, @Body() dto: AddOptOutDto): Promise<void> {
    const entry = {
      phone_number: this.e164(dto.phone_number),
      source: OPT_OUT_SOURCE.admin(p.userId),
      reason: dto.reason ?? null,
    };
    const put = await this.optOuts.put(
      p.tenantId,
      entry.phone_number,
      entry.source,
      entry.reason,
      { actor: p.userId },
      TEXT_LIFTABLE_SOURCES,
    );
    if (put) {
      const before = put.replaced && { phone_number: entry.phone_number, ...put.replaced };
      await this.audit.record(p, 'opt_out.add', { type: 'opt_out', id: entry.phone_number }, before, entry);
    }
  }

  /** Takes a number off the list (the recipient opted back in). */
  @Delete(':phoneNumber')
  @ApiOperation({
    summary: 'Opt a number back in',
    description:
      "Admins. Removes the number from the tenant's opt-out list whatever its source (204). Before lifting a provider opt-out, make sure the recipient opted back in with the carrier: otherwise the next send fails again and lists the number again.",
  })
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('phoneNumber') phoneNumber: string): Promise<void> {
    const e164 = this.e164(phoneNumber);
    const removed = await this.optOuts.remove(p.tenantId, e164, {
      actor: p.userId,
      source: OPT_OUT_SOURCE.admin(p.userId),
    });
    await this.audit.record(
      p,
      'opt_out.remove',
      { type: 'opt_out', id: e164 },
      { phone_number: e164, ...removed },
      null,
    );
  }

  private e164(phoneNumber: string): string {
    const v = this.phone.forSend(phoneNumber);
    if (!v.valid)
      throw ValidationFailedError.field('phone_number', `phone_number is not valid (${v.reason})`);
    return v.e164;
  }
}
