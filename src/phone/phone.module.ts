import { Module } from '@nestjs/common';
import { PhoneController } from './phone.controller';
import { PhoneService } from './phone.service';

/** Phone number validation (`POST /api/sms/validate-phone`) and `PhoneService` for the features that send. */
@Module({ controllers: [PhoneController], providers: [PhoneService], exports: [PhoneService] })
export class PhoneModule {}
