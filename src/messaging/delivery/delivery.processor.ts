import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bull';
import { Semaphore } from '../../common/semaphore';
import { AppConfig } from '../../config/app-config';
import { AllProvidersFailedError, ProviderError } from '../../providers';
import { SmsRouter } from '../../providers';
import { toAmount } from '../../core/money';
import { BodyCrypto } from '../accept/body-crypto';
import { DeliverJobData, DeliveryJob, DeliveryQueue, messageIdsOf } from './delivery-queue';
import { AttemptOutcome, ClaimedMessage, DeliveryStore } from './delivery-store';
import { OPT_OUT_ERROR_CODES, OptOutsService } from '../policies/opt-outs.service';
import { ReceiptsService } from '../receipts/receipts.service';

export interface DeliverSummary {
  sent: number;
  failed: number;
  skipped: number;
}

/**
 * Worker role only: takes delivery jobs (one message, or a bulk chunk) and hands each message to
 * the providers at most once per attempt. Provider calls in flight are capped at
 * SMS_WORKER_CONCURRENCY however the messages arrive.
 */
@Injectable()
export class DeliveryProcessor implements OnModuleInit {
  private readonly logger = new Logger(DeliveryProcessor.name);
  private readonly statusCallbackUrl: string;
  private readonly inFlight: Semaphore;
  private readonly maxAttempts: number;
  private readonly handlers: Record<
    DeliveryJob,
    { concurrency: number; handle: (job: Job<DeliverJobData>) => Promise<DeliverSummary> }
  >;

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly store: DeliveryStore,
    private readonly router: SmsRouter,
    private readonly crypto: BodyCrypto,
    private readonly receipts: ReceiptsService,
    private readonly optOuts: OptOutsService,
    config: AppConfig,
  ) {
    this.statusCallbackUrl = `${config.get('PUBLIC_BASE_URL')}/api/sms/webhooks/twilio/status`;
    const concurrency = config.get('SMS_WORKER_CONCURRENCY');
    this.inFlight = new Semaphore(concurrency);
    this.maxAttempts = config.get('SMS_MAX_ATTEMPTS');
    // One handler per job name; the Record type makes a missing one a compile error. A few chunk
    // jobs at once keep the semaphore busy; more would only hold messages in 'sending' longer.
    this.handlers = {
      [DeliveryJob.Deliver]: { concurrency, handle: (job) => this.deliver(job) },
      [DeliveryJob.DeliverChunk]: {
        concurrency: Math.max(2, Math.ceil(concurrency / 25)),
        handle: (job) => this.deliver(job),
      },
    };
  }

  onModuleInit(): void {
    for (const [name, { concurrency, handle }] of Object.entries(this.handlers)) {
      void this.queue.queue.process(name, concurrency, handle);
    }
  }

  /**
   * Each of the job's messages takes a slot of the semaphore, then is claimed (skipped when it was
   * canceled, sent, or is not due), attempted and recorded. Claiming only once a slot is free
   * keeps at most SMS_WORKER_CONCURRENCY rows in 'sending', so a crash strands no more than those.
   * Throws when any message must be retried: Bull runs the job again after its backoff, and the
   * claim then takes only the messages that went back to 'queued'.
   */
  async deliver(job: Job<DeliverJobData>): Promise<DeliverSummary> {
    const ids = messageIdsOf(job.data);
    const attempted = await Promise.all(
      ids.map((id) =>
        this.inFlight.run(async () => {
          const msg = await this.store.claim(id);
          return msg ? { msg, outcome: await this.attempt(msg) } : null;
        }),
      ),
    );
    const done = attempted.filter((a): a is { msg: ClaimedMessage; outcome: AttemptOutcome } => a !== null);
    await Promise.all(done.map(({ msg, outcome }) => this.settle(msg, outcome)));
    const retries = done.filter((d) => d.outcome.outcome === 'retry').length;
    if (retries > 0) throw new Error(`${retries} of ${done.length} messages will be retried`);
    const sent = done.filter((d) => d.outcome.outcome === 'sent').length;
    return { sent, failed: done.length - sent, skipped: ids.length - done.length };
  }

  private async attempt(msg: ClaimedMessage): Promise<AttemptOutcome> {
    // The row's own count (incremented by the claim) decides, whichever job carries the message.
    const lastAttempt = msg.attempts >= this.maxAttempts;
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
      return {
        id: msg.id,
        outcome: 'sent',
        provider: result.provider,
        providerMessageId: result.providerMessageId,
        cost: result.cost === null ? null : toAmount(result.cost),
        tried,
      };
    } catch (e) {
      return this.failure(msg.id, e, lastAttempt);
    }
  }

  /** Writes the outcome (batched with other jobs'), then what follows from it. */
  private async settle(msg: ClaimedMessage, outcome: AttemptOutcome): Promise<void> {
    await this.store.record(outcome);
    if (outcome.outcome === 'sent') {
      await this.receipts.applyParked(outcome.provider, outcome.providerMessageId).catch((e: unknown) => {
        this.logger.warn({ messageId: msg.id, err: String(e) }, 'parked receipt not applied');
      });
    } else if (outcome.outcome === 'failed') {
      this.logger.warn({ messageId: msg.id, errorCode: outcome.errorCode }, 'message failed');
      if (OPT_OUT_ERROR_CODES.has(outcome.errorCode)) {
        // The recipient said STOP: never text (or pay for) this number again for this tenant.
        await this.optOuts.add(msg.tenantId, msg.phoneNumber, 'provider', outcome.errorCode);
      }
    }
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
