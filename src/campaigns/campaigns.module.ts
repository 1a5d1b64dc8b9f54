import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import { CallbacksModule } from '../callbacks';
import { MessagingModule } from '../messaging';
import { PhoneModule } from '../phone';
import { TemplatesModule } from '../templates';
import { TenancyModule } from '../tenancy';
import { CampaignsController } from './campaigns.controller';
import { CampaignsProcessor } from './campaigns.processor';
import { CAMPAIGNS_QUEUE, CampaignsService } from './campaigns.service';
import { RecipientsController } from './recipients.controller';
import { RecipientsService } from './recipients.service';
import { SendTimePlanner } from './send-time-planner';

/** Campaigns and the recipient directory they select from (api role: HTTP and enqueueing). */
@Module({
  imports: [
    BullModule.registerQueue({ name: CAMPAIGNS_QUEUE }),
    TenancyModule,
    PhoneModule,
    AuditModule,
    CallbacksModule,
    MessagingModule,
    TemplatesModule,
  ],
  controllers: [RecipientsController, CampaignsController],
  providers: [RecipientsService, CampaignsService, SendTimePlanner],
  exports: [RecipientsService, CampaignsService],
})
export class CampaignsModule {}

/** The worker role's part: snapshot jobs (the minute tick is the `campaigns` job in src/jobs). */
@Module({
  imports: [CampaignsModule],
  providers: [CampaignsProcessor],
})
export class CampaignsWorkerModule {}
