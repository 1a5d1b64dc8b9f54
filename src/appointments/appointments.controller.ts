import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import type { FastifyReply } from 'fastify';
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
  @ApiOperation({
    summary: 'Create or update an appointment',
    description:
      'Stores the appointment a reminder is sent for (201 when new, 200 when updated). `starts_at` needs an offset; moving it makes the appointment due for a reminder again. Owner rule: the creator or a tenant admin; anyone else gets 404.',
  })
  @ApiOkResponse({ type: AppointmentResponseDto })
  async upsert(
    @CurrentPrincipal() p: Principal,
    @Param('appointmentId') id: string,
    @Body() dto: UpsertAppointmentDto,
    @Res({ passthrough: true }) res: FastifyReply,
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
  @ApiOperation({
    summary: 'Get an appointment',
    description:
      "The stored appointment and when its reminder went out (`reminder_sent_at`). 404 for another user's appointment unless the caller is an admin.",
  })
  @ApiOkResponse({ type: AppointmentResponseDto })
  @ApiNotFoundResponse({ description: "no such appointment, or another user's (unless admin)" })
  async get(
    @CurrentPrincipal() p: Principal,
    @Param('appointmentId') id: string,
  ): Promise<AppointmentResponseDto> {
    return toAppointmentResponse(await this.appointments.read(p, id));
  }

  @Delete(':appointmentId')
  @ApiOperation({
    summary: 'Delete an appointment',
    description: 'Deletes the appointment; no reminder is sent for it afterwards. Owner rule as for GET.',
  })
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('appointmentId') id: string): Promise<void> {
    await this.appointments.remove(p, id);
  }
}
