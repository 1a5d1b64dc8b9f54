/** The public surface of campaigns: what other modules may import. */
export { CampaignsModule, CampaignsWorkerModule } from './campaigns.module';
export { RecipientsService } from './recipients.service';
export type { Recipient, RecipientFilter } from './recipients.service';
export { CampaignsService } from './campaigns.service';
