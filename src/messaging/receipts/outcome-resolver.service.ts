import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { Semaphore } from '../../common/semaphore';
import { AppConfig } from '../../config/app-config';
import { ProviderName } from '../../core/message-types';
import { SmsRouter } from '../../providers';
import { BodyCrypto } from '../accept/body-crypto';
import { SweeperService } from '../delivery/sweeper.service';
import {
  Resolution,
  SystemMessagesRepository,
  UnresolvedRow,
} from '../repositories/system-messages.repository';
import { costOf, ReceiptsService } from './receipts.service';

/** error_code of an `unknown` that nothing can settle: shown with its reason, never resent. */
export const OUTCOME_UNKNOWN = 'outcome_unknown';
/** error_code of a row whose worker died mid-attempt while the provider is being asked. */
export const WORKER_LOST = 'worker_lost';

/** A provider that has nothing this long after the attempt started did not create the message. */
export const NOT_CREATED_GRACE_MS = 2 * 60_000;
/** The lookup window opens this long before the attempt and closes this long after now (clock skew between us and the provider). */
const WINDOW_SKEW_MS = 60_000;
/** An unknown row whose lookup could not be made is asked again after this. */
const ASK_AGAIN_MS = 30_000;
/** After this long without an answer from the provider, the row stays `unknown` for good. */
const GIVE_UP_MS = 48 * 3600_000;
const PER_RUN = 200;
const ASKING = '; asking the provider whether it has the message';
const AT_ONCE = 5;

export interface ResolveSummary {
  sent: number;
  retried: number;
  unknown: number;
  pending: number;
}

/**
 * Settles attempts whose outcome the service does not know: a row left in `sending` by a worker
 * that died, or `unknown` after a provider timeout. Never `failed`, never resent on a guess:
 * - the provider has it (its message list, by recipient, body and time window) → `sent` with its id;
 * - every provider that could have got it can be asked and none has it, past a grace period →
 *   back to `queued` and re-enqueued (nothing went out, so a retry is safe);
 * - a provider that could have got it cannot be asked (SNS, sandbox) → `unknown` for good, with
 *   the reason, visible in history and the status endpoint.
 * The providers that could have got it are those the worker recorded on the row before calling
 * them (`attempt_providers`): a message is `unknown` only when the provider it was handed to
 * cannot be asked.
 * The `outcomes` job runs it (SMS_OUTCOMES_CRON, every minute, one replica at a time), bounded per
 * run; the hourly status job runs it too.
 */
@Injectable()
export class OutcomeResolver {
  private readonly logger = new Logger(OutcomeResolver.name);

  constructor(
    private readonly messages: SystemMessagesRepository,
    private readonly router: SmsRouter,
    private readonly crypto: BodyCrypto,
    private readonly sweeper: SweeperService,
    private readonly receipts: ReceiptsService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async resolve(): Promise<ResolveSummary> {
    const now = this.clock.now();
    const rows = await this.messages.unresolved(
      new Date(now.getTime() - this.config.get('SMS_STUCK_SENDING_MINUTES') * 60_000),
      new Date(now.getTime() - ASK_AGAIN_MS),
      [OUTCOME_UNKNOWN],
      PER_RUN,
    );
    const summary: ResolveSummary = { sent: 0, retried: 0, unknown: 0, pending: 0 };
    const slots = new Semaphore(AT_ONCE);
    await Promise.all(
      rows.map((row) =>
        slots.run(async () => {
          try {
            summary[await this.resolveOne(row, now)] += 1;
          } catch (e) {
            summary.pending += 1;
            this.logger.warn({ messageId: row.id, err: String(e) }, 'outcome not resolved');
          }
        }),
      ),
    );
    if (rows.length) this.logger.log(summary, 'unknown outcomes resolved');
    return summary;
  }

  private async resolveOne(row: UnresolvedRow, now: Date): Promise<keyof ResolveSummary> {
    const origin = row.status === 'sending' ? WORKER_LOST : (row.errorCode ?? 'timeout');
    const why =
      row.status === 'sending' || row.errorCode === WORKER_LOST
        ? 'the worker stopped during the attempt'
        : (row.errorMessage ?? 'the provider did not answer in time').replace(ASKING, '');
    const body = row.bodyCiphertext ? this.crypto.open(row.bodyCiphertext).text : row.body;
    const lookup = {
      to: row.phoneNumber,
      body,
      after: new Date(row.attemptAt.getTime() - WINDOW_SKEW_MS),
      before: new Date(now.getTime() + WINDOW_SKEW_MS),
    };
    const unaskable: ProviderName[] = [];
    const unreachable: ProviderName[] = [];
    const ambiguous: ProviderName[] = [];
    for (const provider of this.candidates(row)) {
      let found;
      try {
        found = await this.router.findSent(provider, lookup, row.tenantId);
      } catch (e) {
        unreachable.push(provider);
        this.logger.warn({ messageId: row.id, provider, err: String(e) }, 'provider lookup failed');
        continue;
      }
      if (found === null) {
        unaskable.push(provider);
        continue;
      }
      const held = await this.messages.heldProviderIds(
        provider,
        found.map((f) => f.providerMessageId),
      );
      const unclaimed = found.filter((f) => !held.has(f.providerMessageId));
      const match = unclaimed.find((f) => f.sameBody);
      if (!match) {
        // A message to this number that no row holds, with another text: it may be ours
        // rewritten (Smart Encoding). Ambiguous, so never resent on that guess.
        if (unclaimed.length > 0) ambiguous.push(provider);
        continue;
      }
      const resolution: Resolution = {
        kind: 'sent',
        provider,
        providerMessageId: match.providerMessageId,
        // The provider may already know more than 'sent' (delivered, undelivered).
        status: match.status && match.status !== 'failed' ? match.status : 'sent',
        providerStatus: match.providerStatus,
        ...costOf(match),
      };
      if (!(await this.messages.resolve(row, resolution, 'resolver'))) return 'pending';
      await this.receipts.applyParked(provider, match.providerMessageId).catch(() => undefined);
      return 'sent';
    }
    const age = now.getTime() - row.attemptAt.getTime();
    if (unaskable.length > 0) {
      const reason = `${why}; ${unaskable.join(', ')} cannot be asked whether it has the message, so it is not resent automatically (a duplicate is worse than a gap)`;
      return this.settleUnknown(row, OUTCOME_UNKNOWN, reason, true);
    }
    if (ambiguous.length > 0) {
      const reason = `${why}; ${ambiguous.join(', ')} holds a message to this number from that time with a different text, so it is not resent automatically`;
      return this.settleUnknown(row, OUTCOME_UNKNOWN, reason, true);
    }
    if (unreachable.length > 0) {
      if (age > GIVE_UP_MS) {
        const reason = `${why}; ${unreachable.join(', ')} could not be asked for 48 hours; not resent`;
        return this.settleUnknown(row, OUTCOME_UNKNOWN, reason, true);
      }
      return this.wait(row, origin, why);
    }
    // Every provider that could have got it was asked and has nothing.
    if (age < NOT_CREATED_GRACE_MS) return this.wait(row, origin, why);
    if (!(await this.messages.resolve(row, { kind: 'retry' }, 'resolver'))) return 'pending';
    await this.sweeper.requeue([row.id]);
    return 'retried';
  }

  /**
   * The providers that could hold the attempt: the one that timed out when the error names it
   * (the router stops at a timeout, and the ones before it failed without creating anything);
   * otherwise those the worker recorded as handed the attempt, each written before its call (none:
   * nothing was called, so the message is simply queued again); for a row without that record
   * (claimed before it existed), every configured one, in router order. A test-mode message only
   * ever goes to the test-mode sandbox (its claim may still name the real provider it would have
   * gone to first): the sandbox when the worker recorded it before the call (it cannot be asked),
   * else none; never a real provider.
   */
  private candidates(row: UnresolvedRow): ProviderName[] {
    if (row.testMode)
      return row.attemptProviders && !row.attemptProviders.includes('sandbox') ? [] : ['sandbox'];
    const timedOut = /^(\w+):timeout$/.exec(row.errorCode ?? '')?.[1];
    const named = this.router.order.find((p) => p === timedOut);
    if (named) return [named];
    if (row.attemptProviders) return [...new Set(row.attemptProviders)];
    return [...this.router.order];
  }

  /** Not settled yet: a `sending` row shows as `unknown` while the provider is asked again. */
  private async wait(row: UnresolvedRow, origin: string, why: string): Promise<'pending'> {
    if (row.status === 'sending') {
      await this.messages.resolve(
        row,
        {
          kind: 'unknown',
          errorCode: origin,
          errorMessage: `${why}${ASKING}`,
          final: false,
        },
        'resolver',
      );
    } else {
      await this.messages.touch(row);
    }
    return 'pending';
  }

  private async settleUnknown(
    row: UnresolvedRow,
    code: string,
    reason: string,
    final: boolean,
  ): Promise<'unknown' | 'pending'> {
    const done = await this.messages.resolve(
      row,
      { kind: 'unknown', errorCode: code, errorMessage: reason, final },
      'resolver',
    );
    return done ? 'unknown' : 'pending';
  }
}
