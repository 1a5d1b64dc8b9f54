import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DeliveryReceipt, DeliveryReceipts, ReceiptFact, RoutingScores } from '../../providers';
import { countryOfNumber } from '../../phone';
import { Batcher } from '../../common/batcher';
import { Clock } from '../../common/clock';
import { MessageStatus } from '../../core/message-types';
import { canTransition } from '../../core/status-machine';
import { formatMoney, Micros } from '../../core/money';
import {
  MessageEvent,
  receiptKey,
  ReceiptChange,
  ReceiptTarget,
  SystemMessagesRepository,
} from '../repositories/system-messages.repository';

export type ReceiptResult = 'applied' | 'ignored' | 'parked';

/** Receipts applied in one transaction at most, and such transactions at once for this process. */
const RECEIPT_BATCH = 200;
const RECEIPT_TRANSACTIONS = 2;

/**
 * Applies provider delivery receipts (webhooks, sandbox, reconciliation). A status only moves
 * forward; a late receipt is still recorded as an event and changes nothing else; a replayed one
 * (same provider message id and provider status) adds nothing. Costs are exact decimals.
 *
 * Receipts that arrive together are applied together (group commit, as the worker's outcome
 * writes): one transaction and one statement per step for the batch, so a burst of receipts costs
 * a few statements, and the ledger's statement triggers (the stats rollup, the webhook outbox)
 * fire once per batch instead of once per receipt. Each caller still gets its own answer.
 */
@Injectable()
export class ReceiptsService implements OnModuleInit {
  private readonly logger = new Logger(ReceiptsService.name);
  private readonly batches: Batcher<DeliveryReceipt, ReceiptResult>;

  constructor(
    private readonly messages: SystemMessagesRepository,
    private readonly receipts: DeliveryReceipts,
    private readonly clock: Clock,
    private readonly scores: RoutingScores,
  ) {
    this.batches = new Batcher((rs) => this.applyMany(rs), RECEIPT_BATCH, RECEIPT_TRANSACTIONS);
  }

  onModuleInit(): void {
    this.receipts.subscribe(async (r) => {
      await this.apply(r);
    });
  }

  /**
   * Applies one receipt, in a batch with those arriving meanwhile. A batch that fails (one bad
   * receipt rolls back the others) is applied again receipt by receipt, so an error reaches only
   * the caller whose receipt caused it.
   */
  async apply(r: DeliveryReceipt): Promise<ReceiptResult> {
    try {
      return await this.batches.submit(r);
    } catch {
      return (await this.applyMany([r]))[0];
    }
  }

  /**
   * One transaction for the batch: every receipt lock first (one statement, in key order), then
   * rounds of at most one receipt per provider message id, in arrival order (a message's second
   * receipt sees what its first did), each round one statement per step: find and lock the
   * messages with whether each receipt is a replay, park the receipts whose message is not 'sent'
   * yet, apply the changes with their events.
   */
  private async applyMany(rs: DeliveryReceipt[]): Promise<ReceiptResult[]> {
    // First final receipts of sent messages, counted towards the routing scores once committed.
    const finals: ReceiptFact[] = [];
    const results = await this.messages.transaction(async (m) => {
      finals.length = 0;
      await this.messages.lockReceiptKeys(m, rs);
      const results: ReceiptResult[] = new Array<ReceiptResult>(rs.length);
      for (const round of rounds(rs)) {
        const targets = await this.messages.lockReceiptTargets(
          m,
          round.map((i) => rs[i]),
        );
        const parked = round.filter((i) => !targets.has(receiptKey(rs[i])));
        for (const i of parked) {
          this.logger.warn(
            { provider: rs[i].provider, providerMessageId: rs[i].providerMessageId },
            'receipt before its message: parked',
          );
          results[i] = 'parked';
        }
        // Parked in PostgreSQL: the worker applies them in the statement that records 'sent'.
        await this.messages.parkReceipts(
          m,
          parked.map((i) => ({ receipt: rs[i], at: this.clock.now() })),
        );
        const found = round
          .filter((i) => targets.has(receiptKey(rs[i])))
          .map((i) => ({ i, r: rs[i], row: targets.get(receiptKey(rs[i])) as ReceiptTarget }));
        const changes: (ReceiptChange & { id: string })[] = [];
        const events: MessageEvent[] = [];
        for (const { i, r, row } of found) {
          const { id, status } = row;
          const price = costOf(r);
          // A replayed callback (same message, same provider word) was recorded once: no new
          // event, no change, except a cost the first one did not carry.
          if (row.seen) {
            if (row.cost === null && price.cost !== null)
              changes.push({ id, status: null, errorCode: null, ...price });
            results[i] = 'ignored';
            continue;
          }
          const next: MessageStatus | null = r.status;
          const applies = next !== null && next !== status && canTransition(status, next);
          changes.push({
            id,
            status: applies ? next : null,
            errorCode: applies && r.errorCode ? `${r.provider}:${r.errorCode}` : null,
            ...price,
          });
          events.push({
            id,
            status: next ?? status,
            source: r.source,
            payload: { provider_status: r.providerStatus, applied: applies, error_code: r.errorCode ?? null },
          });
          results[i] = applies ? 'applied' : 'ignored';
          if (applies && row.sentAt && isFinal(next) && !isFinal(status))
            finals.push({
              provider: r.provider,
              country: countryOfNumber(row.phoneNumber),
              sentAt: row.sentAt,
              at: this.clock.now(),
              status: next,
            });
        }
        await this.messages.writeReceipts(m, changes, events);
      }
      return results;
    });
    for (const f of finals) this.scores.recordReceipt(f);
    return results;
  }

  /**
   * Receipts parked for a message that moved to 'sent' outside the worker's recording statement
   * (the outcome resolver found it at the provider): taken off the park and applied in order.
   */
  async applyParked(provider: DeliveryReceipt['provider'], providerMessageId: string): Promise<void> {
    const parked = await this.messages.takeParked(provider, providerMessageId);
    for (const r of parked) await this.apply(r);
  }
}

/**
 * A receipt's price as an exact decimal string (providers report charges as negative amounts),
 * with the currency as the provider reported it. A price that is not a plain decimal is dropped.
 */
export function costOf(r: { price?: Micros | null; currency?: string | null }): {
  cost: string | null;
  currency: string | null;
} {
  const micros = r.price ?? null;
  if (micros === null) return { cost: null, currency: null };
  const unit = r.currency?.trim().toUpperCase() ?? '';
  return { cost: formatMoney(Math.abs(micros)), currency: /^[A-Z]{3}$/.test(unit) ? unit : null };
}

const FINAL: readonly MessageStatus[] = ['delivered', 'undelivered', 'failed'];

function isFinal(s: MessageStatus | null): s is 'delivered' | 'undelivered' | 'failed' {
  return s !== null && FINAL.includes(s);
}

/**
 * The batch's receipts (indexes) in rounds of at most one per provider message id: a message's
 * first receipt in the first round, its second in the second, and so on, in arrival order.
 */
function rounds(rs: DeliveryReceipt[]): number[][] {
  const out: number[][] = [];
  const seen = new Map<string, number>();
  rs.forEach((r, i) => {
    const key = receiptKey(r);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    (out[n] ??= []).push(i);
  });
  return out;
}
