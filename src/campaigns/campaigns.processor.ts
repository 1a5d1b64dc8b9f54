import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { CAMPAIGNS_QUEUE, CampaignsService, EXECUTE_JOB } from './campaigns.service';

/** The worker role's snapshot jobs; a throw lets Bull retry, and the snapshot resumes at its cursor. */
@Processor(CAMPAIGNS_QUEUE)
export class CampaignsProcessor {
  constructor(private readonly campaigns: CampaignsService) {}

  @Process({ name: EXECUTE_JOB, concurrency: 2 })
  async execute(job: Job<{ campaignId: string }>): Promise<void> {
    await this.campaigns.snapshot(job.data.campaignId);
  }
}
