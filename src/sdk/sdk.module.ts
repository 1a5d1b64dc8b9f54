import { Module } from '@nestjs/common';
import { AppointmentsModule } from '../appointments/appointments.module';
import { TemplatesModule } from '../templates/templates.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { VerificationModule } from '../verification/verification.module';
import { SmsService } from './sms.service';

/** Import this module to inject `SmsService`. */
@Module({
  imports: [TenancyModule, TemplatesModule, VerificationModule, AppointmentsModule],
  providers: [SmsService],
  exports: [SmsService],
})
export class SmsSdkModule {}
