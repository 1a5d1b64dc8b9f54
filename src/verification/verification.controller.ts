import { Body, Controller, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentPrincipal } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { IDEMPOTENCY_HEADER, respond, sendContext } from '../messaging/messaging.controller';
import { toSendResponse } from '../messaging/messaging.mappers';
import { CheckCodeDto, CheckCodeResponseDto, SendCodeDto, SendCodeResponseDto } from './verification.dto';
import { VerificationService } from './verification.service';

@ApiTags('verification')
@ApiBearerAuth()
@Controller('api/sms/verification')
export class VerificationController {
  constructor(private readonly verification: VerificationService) {}

  /** Sends a code; the answer never contains it. */
  @Post('send')
  @HttpCode(202)
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiAcceptedResponse({ type: SendCodeResponseDto })
  async send(
    @CurrentPrincipal() p: Principal,
    @Body() dto: SendCodeDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') key?: string,
  ): Promise<SendCodeResponseDto> {
    const accepted = await this.verification.send(
      sendContext(p, req, key, dto),
      {
        phoneNumber: dto.phone_number,
        purpose: dto.purpose,
        userId: dto.user_id,
        language: dto.language,
        code: dto.code,
      },
      (s) => ({ ...toSendResponse(s.result), expires_at: s.expiresAt.toISOString() }),
    );
    return respond(res, accepted);
  }

  @Post('check')
  @HttpCode(200)
  @ApiOkResponse({ type: CheckCodeResponseDto })
  async check(@CurrentPrincipal() p: Principal, @Body() dto: CheckCodeDto): Promise<CheckCodeResponseDto> {
    const valid = await this.verification.check(p.tenantId, {
      phoneNumber: dto.phone_number,
      purpose: dto.purpose,
      code: dto.code,
    });
    return { valid };
  }
}
