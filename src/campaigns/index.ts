/** The public surface of campaigns: what other modules may import. */
export { CampaignsModule, CampaignsWorkerModule } from './campaigns.module';
export { RecipientsService } from './recipients.service';
export type { Recipient, RecipientFilter } from './recipients.service';
export { CampaignsService } from './campaigns.service';
// The directory's part in a number's data-subject requests (src/privacy).
export { directoryPersonalData } from './directory-personal-data';
