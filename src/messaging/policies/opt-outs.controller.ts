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
import { OptOutsService } from './opt-outs.service';

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
  @ApiProperty({ example: 'provider', description: 'provider (a STOP reported by Twilio/SNS) or admin' })
  source: string;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
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
      created_at: o.createdAt.toISOString(),
    }));
  }

  /** Audited (`opt_out.add`, right after the insert) unless the number was already listed. */
  @Post()
  @ApiOperation({
    summary: 'Opt a number out',
    description: "Admins. Adds the number to the tenant's opt-out list (204).",
  })
  @HttpCode(204)
  async add(@CurrentPrincipal() p: Principal, @Body() dto: AddOptOutDto): Promise<void> {
    const entry = {
      phone_number: this.e164(dto.phone_number),
      source: `admin:${p.userId}`,
      reason: dto.reason ?? null,
    };
    if (
      await this.optOuts.add(p.tenantId, entry.phone_number, entry.source, entry.reason, { actor: p.userId })
    )
      await this.audit.record(p, 'opt_out.add', { type: 'opt_out', id: entry.phone_number }, null, entry);
  }

  /** Takes a number off the list (the recipient opted back in). */
  @Delete(':phoneNumber')
  @ApiOperation({
    summary: 'Opt a number back in',
    description: "Admins. Removes the number from the tenant's opt-out list (204).",
  })
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('phoneNumber') phoneNumber: string): Promise<void> {
    const e164 = this.e164(phoneNumber);
    const removed = await this.optOuts.remove(p.tenantId, e164, {
      actor: p.userId,
      source: `admin:${p.userId}`,
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
