import { UserIdField, ValiditySecondsField } from '../common/dto-fields';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { CONTENT_SID_PATTERN } from '../core/channels';
import { LANGUAGES, Language } from '../core/message-types';
import { SendResponseDto } from '../messaging';
import type { VerificationPurpose } from './verification-code.entity';

const PURPOSES = ['password_reset', '2fa'] as const;

export class SendCodeDto {
  @ApiProperty({ example: '+12025550123' }) @IsString() @Length(1, 64) phone_number: string;
  @ApiProperty({ enum: PURPOSES }) @IsIn(PURPOSES) purpose: VerificationPurpose;
  @UserIdField()
  user_id?: string;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptional() @IsIn(LANGUAGES) language?: Language;
  @ApiPropertyOptional({
    example: '123456',
    description: 'your own code (4-10 digits); default: a random 6-digit code',
  })
  @IsOptional()
  @Matches(/^\d{4,10}$/, { message: 'code must be 4 to 10 digits' })
  code?: string;
  @ValiditySecondsField(
    "seconds the code's message may wait to be handed to a provider; past it the message ends `expired` and nothing is sent (the code itself still lives until `expires_at`). Default and ceiling: the code's own lifetime (SMS_CODE_TTL_SECONDS); the template's `validity_seconds` when it has one",
  )
  validity_seconds?: number | null;
  @ApiPropertyOptional({
    enum: ['sms', 'whatsapp'],
    description:
      "sms (default) or whatsapp: free text inside the recipient's 24-hour session window, else the approved authentication template `content_sid` with the code as its variable 1 (sealed until sent, never stored in clear). No SMS fallback: a code is sent once. See docs/sending.md, Channels",
  })
  @IsOptional()
  @IsIn(['sms', 'whatsapp'], { message: 'channel must be sms or whatsapp' })
  channel?: 'sms' | 'whatsapp';
  @ApiPropertyOptional({
    example: 'HXb5b62575e6e4ff6129ad7c8efe1f983e',
    description:
      'whatsapp only: the approved WhatsApp authentication template (Twilio Content API), sent outside the session window with ContentVariables {"1": "<code>"}',
  })
  @IsOptional()
  @Matches(CONTENT_SID_PATTERN, {
    message: 'content_sid must be a Twilio Content SID (HX and 32 hex digits)',
  })
  content_sid?: string;
}

export class CheckCodeDto {
  @ApiProperty({ example: '+12025550123' }) @IsString() @Length(1, 64) phone_number: string;
  @ApiProperty({ enum: PURPOSES }) @IsIn(PURPOSES) purpose: VerificationPurpose;
  @ApiProperty({ example: '123456' }) @IsString() @Length(1, 20) code: string;
}

export class SendCodeResponseDto extends SendResponseDto {
  @ApiProperty({ description: 'the code stops working at this time' }) expires_at: string;
}

export class CheckCodeResponseDto {
  @ApiProperty() valid: boolean;
}
