import { Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import { PhoneModule } from '../phone';
import { TenancyModule } from '../tenancy';
import { RecipientsController } from './recipients.controller';
import { RecipientsService } from './recipients.service';

/** Campaigns and the recipient directory they select from. */
@Module({
  imports: [TenancyModule, PhoneModule, AuditModule],
  controllers: [RecipientsController],
  providers: [RecipientsService],
  exports: [RecipientsService],
})
export class CampaignsModule {}
