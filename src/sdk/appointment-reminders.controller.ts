import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { UserIdField, ValiditySecondsField } from '../common/dto-fields';
import { ValidationFailedError } from '../common/errors';
import type { Channel } from '../core/channels';
import { Language, LANGUAGES } from '../core/message-types';
import {
  ChannelField,
  channelInput,
  ContentSidField,
  ContentVariablesField,
  FallbackChannelField,
  MediaUrlsField,
} from '../messaging';
import { SmsService } from './sms.service';

export class RemindAppointmentDto {
  @ApiPropertyOptional({ example: '+12025550123', description: 'instead of the stored number' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  phone_number?: string;
  @UserIdField()
  user_id?: string;
  @ApiPropertyOptional({ enum: LANGUAGES, description: 'instead of the stored language' })
  @IsOptional()
  @IsIn(LANGUAGES)
  language?: Language;
  @ValiditySecondsField(
    "seconds the reminder may wait to be handed to a provider, from now; past it the reminder ends `expired` (never sent, never charged). Default: the appointment_reminder template's `validity_seconds`, else none",
  )
  validity_seconds?: number | null;
  // channels (issue 25): this reminder's own, instead of the appointment_reminder template's.
  @ChannelField() channel?: Channel;
  @MediaUrlsField() media_urls?: string[];
  @ContentSidField() content_sid?: string;
  @ContentVariablesField() content_variables?: Record<string, string>;
  @FallbackChannelField() fallback_channel?: 'sms';
}

export class RemindAppointmentResponseDto {
  @ApiProperty() success: boolean;
  @ApiProperty({ example: 'c4508301-97a5-4ab8-ab47-0e37c5865078' }) message_id: string;
}

@ApiTags('appointments')
@ApiErrors()
@ApiBearerAuth()
@Controller('api/sms/appointments')
export class AppointmentRemindersController {
  constructor(private readonly sms: SmsService) {}

  @Post(':appointmentId/remind')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send an appointment’s reminder now',
    description:
      'Sends the stored appointment’s reminder (the appointment_reminder template, in its language and time zone) on demand, as the 30-minute cron would. One reminder per appointment start and number: calling again, or the cron afterwards, answers the first message’s id and sends nothing (Idempotent-Replayed: true). Moving `starts_at` (PUT) makes a new reminder possible. Owner rule as for GET.',
  })
  @ApiResponse({
    status: 409,
    description: 'the same reminder is being sent by another request right now; retry',
  })
  @ApiResponse({
    status: 402,
    description: "the tenant's monthly_spend_cap would be passed; nothing was sent",
  })
  @ApiAcceptedResponse({ type: RemindAppointmentResponseDto })
  async remind(
    @CurrentPrincipal() p: Principal,
    @Param('appointmentId') id: string,
    @Body() dto: RemindAppointmentDto,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<RemindAppointmentResponseDto> {
    if (!/^[\w.:-]{1,100}$/.test(id))
      throw ValidationFailedError.field(
        'appointment_id',
        'appointment_id must be 1-100 of letters, digits, _ . : -',
      );
    const out = await this.sms.remindAppointment(p, {
      appointmentId: id,
      phoneNumber: dto.phone_number,
      userId: dto.user_id,
      language: dto.language,
      validitySeconds: dto.validity_seconds ?? null,
      channel: channelInput(dto),
    });
    if (out.replayed) res.header('Idempotent-Replayed', 'true');
    return { success: true, message_id: out.messageId };
  }
}
