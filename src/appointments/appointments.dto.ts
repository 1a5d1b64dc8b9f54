import { DateTimeWithOffset, UserIdField } from '../common/dto-fields';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsOptional,
  IsString,
  Length,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { LANGUAGES } from '../core/message-types';
import { isTimeZone } from './appointment-format';
import { AppointmentEntity } from './appointment.entity';

@ValidatorConstraint({ name: 'ianaTimeZone' })
export class IsIanaTimeZone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isTimeZone(value);
  }

  defaultMessage(): string {
    return 'timezone must be an IANA time zone such as Europe/Istanbul';
  }
}

export class UpsertAppointmentDto {
  @UserIdField()
  user_id?: string;
  @ApiProperty({ example: '+905321234567' }) @IsString() @Length(1, 64) phone_number: string;
  @ApiProperty({ example: '2026-12-15T11:00:00Z' })
  @DateTimeWithOffset()
  starts_at: Date;
  @ApiProperty({ example: 'John Doe' }) @IsString() @Length(1, 200) trainer_name: string;
  @ApiProperty({ example: 'Training Room A' }) @IsString() @Length(1, 200) location: string;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptional() @IsIn(LANGUAGES) language?: 'en' | 'tr';
  @ApiPropertyOptional({ example: 'Europe/Istanbul', default: 'UTC' })
  @IsOptional()
  @Validate(IsIanaTimeZone)
  timezone?: string;
}

export class AppointmentResponseDto {
  @ApiProperty() appointment_id: string;
  @ApiProperty({ type: String, nullable: true }) user_id: string | null;
  @ApiProperty() phone_number: string;
  @ApiProperty() starts_at: string;
  @ApiProperty() trainer_name: string;
  @ApiProperty() location: string;
  @ApiProperty({ type: String, nullable: true }) language: string | null;
  @ApiProperty() timezone: string;
  @ApiProperty({ type: String, nullable: true }) reminder_sent_at: string | null;
}

export function toAppointmentResponse(a: AppointmentEntity): AppointmentResponseDto {
  return {
    appointment_id: a.appointmentId,
    user_id: a.userId,
    phone_number: a.phoneNumber,
    starts_at: a.startsAt.toISOString(),
    trainer_name: a.trainerName,
    location: a.location,
    language: a.language,
    timezone: a.timezone,
    reminder_sent_at: a.reminderSentAt ? a.reminderSentAt.toISOString() : null,
  };
}
