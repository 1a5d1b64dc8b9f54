import { Global, Module } from '@nestjs/common';
import { PhoneController } from './phone.controller';
import { PhoneService } from './phone.service';

@Global()
@Module({ controllers: [PhoneController], providers: [PhoneService], exports: [PhoneService] })
export class PhoneModule {}
