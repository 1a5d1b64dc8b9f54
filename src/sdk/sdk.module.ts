import { Module } from '@nestjs/common';
import { PhoneModule } from '../phone';
import { AppointmentsModule } from '../appointments';
import { MessagingModule } from '../messaging';
import { TemplatesModule } from '../templates';
import { TenancyModule } from '../tenancy';
import { VerificationModule } from '../verification';
import { AppointmentRemindersController } from './appointment-reminders.controller';
import { SmsService } from './sms.service';

/** Import this module to inject `SmsService`. */
@Module({
  imports: [
    TenancyModule,
    MessagingModule,
    TemplatesModule,
    VerificationModule,
    AppointmentsModule,
    PhoneModule,
  ],
  controllers: [AppointmentRemindersController],
  providers: [SmsService],
  exports: [SmsService],
})
export class SmsSdkModule {}
