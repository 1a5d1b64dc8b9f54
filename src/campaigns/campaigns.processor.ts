import { Process, Processor } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bull';
import { DataSource } from 'typeorm';
import { LockKey, runCronJob } from '../database/advisory-lock';
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

/** Every minute, on one replica (advisory lock): start due scheduled campaigns, re-add lost snapshots. */
@Injectable()
export class CampaignsCron {
  private readonly logger = new Logger(CampaignsCron.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly campaigns: CampaignsService,
  ) {}

  @Cron(CronExpression.EVERY_MINUTE, { name: 'sms-campaigns' })
  async tick(): Promise<void> {
    await runCronJob(this.ds, LockKey.Campaigns, this.logger, 'campaigns', () => this.campaigns.tick());
  }
}
