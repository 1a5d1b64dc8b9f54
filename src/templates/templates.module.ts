import { Module } from '@nestjs/common';
import { TenancyModule } from '../tenancy/tenancy.module';
import { TemplatedSender } from './templated-sender';
import { TemplatesController } from './templates.controller';
import { TemplatesService } from './templates.service';

@Module({
  imports: [TenancyModule],
  controllers: [TemplatesController],
  providers: [TemplatesService, TemplatedSender],
  exports: [TemplatesService, TemplatedSender],
})
export class TemplatesModule {}
