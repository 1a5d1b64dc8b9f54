import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bull';
import { AppConfig } from '../config/app-config';
import { AllProvidersFailedError, ProviderError } from '../providers/sms-provider';
import { SmsRouter } from '../providers/providers.module';
import { BodyCrypto } from './body-crypto';
import { DeliverJobData, DeliveryJob, DeliveryQueue } from './delivery-queue';
import { AttemptOutcome, DeliveryStore } from './delivery-store';
import { OPT_OUT_ERROR_CODES, OptOutsService } from './opt-outs.service';
import { ReceiptsService } from './receipts.service';

export type DeliverResult = 'sent' | 'failed' | 'retrying' | 'skipped';

/** Worker role only: takes delivery jobs and hands each message to the providers once per attempt. */
@Injectable()
export class DeliveryProcessor implements OnModuleInit {
  private readonly logger = new Logger(DeliveryProcessor.name);
  private readonly statusCallbackUrl: string;
  private readonly handlers: Record<DeliveryJob, (job: Job<DeliverJobData>) => Promise<DeliverResult>>;

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly store: DeliveryStore,
    private readonly router: SmsRouter,
    private readonly crypto: BodyCrypto,
    private readonly receipts: ReceiptsService,
    private readonly optOuts: OptOutsService,
    private readonly config: AppConfig,
  ) {
    this.statusCallbackUrl = `${config.get('PUBLIC_BASE_URL')}/api/sms/webhooks/twilio/status`;
    // One handler per job name; the Record type makes a missing one a compile error.
    this.handlers = { [DeliveryJob.Deliver]: (job) => this.deliver(job) };
  }

  onModuleInit(): void {
    const concurrency = this.config.get('SMS_WORKER_CONCURRENCY');
    for (const [name, handler] of Object.entries(this.handlers)) {
      void this.queue.queue.process(name, concurrency, handler);
    }
  }

  async deliver(job: Job<DeliverJobData>): Promise<DeliverResult> {
    const msg = await this.store.claim(job.data.id);
    if (!msg) return 'skipped'; // canceled, already sent, or not due: nothing to hand over
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    let outcome: AttemptOutcome;
    try {
      const body = msg.bodyCiphertext ? this.crypto.decrypt(msg.bodyCiphertext) : msg.body;
      const { result, tried } = await this.router.router.send({
        messageId: msg.id,
        tenantId: msg.tenantId,
        to: msg.phoneNumber,
        body,
        messageType: msg.messageType,
        statusCallbackUrl: this.statusCallbackUrl,
      });
      outcome = {
        id: msg.id,
        outcome: 'sent',
        provider: result.provider,
        providerMessageId: result.providerMessageId,
        cost: result.cost,
        tried,
      };
    } catch (e) {
      outcome = this.failure(msg.id, e, lastAttempt);
    }
    await this.store.record(outcome);
    if (outcome.outcome === 'sent') {
      await this.receipts.applyParked(outcome.provider, outcome.providerMessageId).catch((e: unknown) => {
        this.logger.warn({ messageId: msg.id, err: String(e) }, 'parked receipt not applied');
      });
    }
    if (outcome.outcome === 'retry') {
      // Throwing hands the job back to Bull, which retries it with exponential backoff.
      throw new Error(`attempt ${msg.attempts} failed: ${outcome.errorCode}`);
    }
    if (outcome.outcome === 'failed') {
      this.logger.warn({ messageId: msg.id, errorCode: outcome.errorCode }, 'message failed');
      if (OPT_OUT_ERROR_CODES.has(outcome.errorCode)) {
        // The recipient said STOP: never text (or pay for) this number again for this tenant.
        await this.optOuts.add(msg.tenantId, msg.phoneNumber, 'provider', outcome.errorCode);
      }
    }
    return outcome.outcome;
  }

  private failure(id: string, e: unknown, lastAttempt: boolean): AttemptOutcome {
    if (e instanceof ProviderError) {
      const tried =
        e instanceof AllProvidersFailedError ? e.attempts : [{ provider: e.provider, code: e.code }];
      // Retryable: every provider failed or was skipped. Permanent and timeout: never again
      // (a timeout may have sent it; a second send risks a doubled message).
      const retry = e.kind === 'retryable' && !lastAttempt;
      const message =
        e.kind === 'timeout' ? `${e.message} (outcome unknown; not retried to avoid a duplicate)` : e.message;
      return { id, outcome: retry ? 'retry' : 'failed', errorCode: e.code, errorMessage: message, tried };
    }
    // Our own fault (e.g. a bad ciphertext): retry like a provider outage, with the error kept.
    const message = e instanceof Error ? e.message : String(e);
    return {
      id,
      outcome: lastAttempt ? 'failed' : 'retry',
      errorCode: 'internal_error',
      errorMessage: message,
      tried: [],
    };
  }
}
