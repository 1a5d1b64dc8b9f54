import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import type { Response } from 'express';
import { CurrentPrincipal } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { ValidationFailedError } from '../common/errors';
import { PhoneService } from '../phone';
import { AppointmentResponseDto, toAppointmentResponse, UpsertAppointmentDto } from './appointments.dto';
import { AppointmentsService } from './appointments.service';

@ApiTags('appointments')
@ApiErrors()
@ApiBearerAuth()
@Controller('api/sms/appointments')
export class AppointmentsController {
  constructor(
    private readonly appointments: AppointmentsService,
    private readonly phone: PhoneService,
  ) {}

  /**
   * Platform services upsert the appointments reminders are sent for: 201 when new, 200 when
   * updated. Owner rule (all three routes): the creator or a tenant admin; anyone else gets 404.
   */
  @Put(':appointmentId')
  @ApiOkResponse({ type: AppointmentResponseDto })
  async upsert(
    @CurrentPrincipal() p: Principal,
    @Param('appointmentId') id: string,
    @Body() dto: UpsertAppointmentDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AppointmentResponseDto> {
    if (!/^[\w.:-]{1,100}$/.test(id))
      throw ValidationFailedError.field(
        'appointment_id',
        'appointment_id must be 1-100 of letters, digits, _ . : -',
      );
    const v = this.phone.forSend(dto.phone_number);
    if (!v.valid)
      throw ValidationFailedError.field('phone_number', `phone_number is not valid (${v.reason})`);
    const { row, created } = await this.appointments.upsert(p, id, {
      userId: dto.user_id ?? null,
      phoneNumber: v.e164,
      startsAt: dto.starts_at,
      trainerName: dto.trainer_name,
      location: dto.location,
      language: dto.language ?? null,
      timezone: dto.timezone ?? 'UTC',
    });
    res.status(created ? 201 : 200);
    return toAppointmentResponse(row);
  }

  @Get(':appointmentId')
  @ApiOkResponse({ type: AppointmentResponseDto })
  @ApiNotFoundResponse({ description: "no such appointment, or another user's (unless admin)" })
  async get(
    @CurrentPrincipal() p: Principal,
    @Param('appointmentId') id: string,
  ): Promise<AppointmentResponseDto> {
    return toAppointmentResponse(await this.appointments.read(p, id));
  }

  @Delete(':appointmentId')
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('appointmentId') id: string): Promise<void> {
    await this.appointments.remove(p, id);
  }
}
