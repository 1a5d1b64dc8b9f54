import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { CurrentPrincipal } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { toSendResponse } from '../messaging';
import { SendContext } from '../messaging';
import { AcceptedReply, Reply, SendCtx, SendRoute } from '../messaging';
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
  @ApiOperation({
    summary: 'Send a verification code',
    description:
      'Sends a password-reset or 2FA code (generated unless given) and stores it hashed until `expires_at`. The code is never in the answer, the history or the logs. Limited per number and per number range (429).',
  })
  @SendRoute(SendCodeResponseDto)
  async send(
    @SendCtx() ctx: SendContext,
    @Body() dto: SendCodeDto,
    @Reply() reply: AcceptedReply,
  ): Promise<SendCodeResponseDto> {
    const sent = await this.verification.send(ctx, {
      phoneNumber: dto.phone_number,
      purpose: dto.purpose,
      userId: dto.user_id,
      language: dto.language,
      code: dto.code,
      validitySeconds: dto.validity_seconds ?? null,
      channel: dto.channel,
      contentSid: dto.content_sid,
    });
    return reply.present(sent.accepted, (r) => ({
      ...toSendResponse(r),
      expires_at: sent.expiresAt.toISOString(),
    }));
  }

  @Post('check')
  @ApiOperation({
    summary: 'Check a verification code',
    description:
      '`valid: true` once for the right, unexpired code; wrong tries count, and the code is burnt after SMS_CODE_MAX_ATTEMPTS.',
  })
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
