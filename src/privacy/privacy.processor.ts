import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { EXPORT_JOB, PRIVACY_QUEUE, PrivacyService } from './privacy.service';

/** The worker role's export jobs; a throw lets Bull retry, the last attempt marks the request failed. */
@Processor(PRIVACY_QUEUE)
export class PrivacyProcessor {
  constructor(private readonly privacy: PrivacyService) {}

  @Process({ name: EXPORT_JOB, concurrency: 1 })
  async export(job: Job<{ requestId: string }>): Promise<void> {
    await this.privacy.runExport(job.data.requestId, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
  }
}
