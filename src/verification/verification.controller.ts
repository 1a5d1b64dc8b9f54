import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { CurrentPrincipal } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { toSendResponse } from '../messaging';
import { SendContext } from '../messaging';
import { presentAccepted, Presented, SendCtx, SendRoute } from '../messaging';
import { CheckCodeDto, CheckCodeResponseDto, SendCodeDto, SendCodeResponseDto } from './verification.dto';
import { VerificationService } from './verification.service';

@ApiTags('verification')
@ApiErrors()
@ApiBearerAuth()
@Controller('api/sms/verification')
export class VerificationController {
  constructor(private readonly verification: VerificationService) {}

  /** Sends a code; the answer never contains it. */
  @Post('send')
  @SendRoute(SendCodeResponseDto)
  async send(@SendCtx() ctx: SendContext, @Body() dto: SendCodeDto): Promise<Presented<SendCodeResponseDto>> {
    const sent = await this.verification.send(ctx, {
      phoneNumber: dto.phone_number,
      purpose: dto.purpose,
      userId: dto.user_id,
      language: dto.language,
      code: dto.code,
    });
    return presentAccepted(sent.accepted, (r) => ({
      ...toSendResponse(r),
      expires_at: sent.expiresAt.toISOString(),
    }));
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
