import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SmsTemplateEntity } from './template.entity';
import { AuditModule } from '../audit';
import { MessagingModule } from '../messaging';
import { PhoneModule } from '../phone';
import { TenancyModule } from '../tenancy';
import { TemplatedSender } from './templated-sender';
import { TemplatesController } from './templates.controller';
import { TemplatesService } from './templates.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([SmsTemplateEntity]),
    TenancyModule,
    MessagingModule,
    AuditModule,
    PhoneModule,
  ],
  controllers: [TemplatesController],
  providers: [TemplatesService, TemplatedSender],
  exports: [TemplatesService, TemplatedSender],
})
export class TemplatesModule {}
