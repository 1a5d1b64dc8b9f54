import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DeliveryReceipt, DeliveryReceipts } from '../../providers';
import { Clock } from '../../common/clock';
import { MessageStatus } from '../../core/message-types';
import { canTransition } from '../../core/status-machine';
import { formatMoney, Micros } from '../../core/money';
import { SystemMessagesRepository } from '../repositories/system-messages.repository';

export type ReceiptResult = 'applied' | 'ignored' | 'parked';

/**
 * Applies provider delivery receipts (webhooks, sandbox, reconciliation). A status only moves
 * forward; a late receipt is still recorded as an event and changes nothing else; a replayed one
 * (same provider message id and provider status) adds nothing. Costs are exact decimals.
 */
@Injectable()
export class ReceiptsService implements OnModuleInit {
  private readonly logger = new Logger(ReceiptsService.name);

  constructor(
    private readonly messages: SystemMessagesRepository,
    private readonly receipts: DeliveryReceipts,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.receipts.subscribe(async (r) => {
      await this.apply(r);
    });
  }

  async apply(r: DeliveryReceipt): Promise<ReceiptResult> {
    const next: MessageStatus | null = r.status;
    return this.messages.transaction(async (m) => {
      const row = await this.messages.lockByProviderId(m, r.provider, r.providerMessageId);
      if (row === null) {
        this.logger.warn(
          { provider: r.provider, providerMessageId: r.providerMessageId },
          'receipt before its message: parked',
        );
        // Parked in PostgreSQL: the worker applies it in the statement that records 'sent'.
        await this.messages.parkReceipt(m, r, this.clock.now());
        return 'parked';
      }
      const { id, status } = row;
      const price = costOf(r);
      // A replayed callback (same message, same provider word) was recorded once: no new event,
      // no change, except a cost the first one did not carry.
      if (await this.messages.hasProviderStatus(m, id, r.providerStatus)) {
        if (row.cost === null && price.cost !== null)
          await this.messages.applyReceipt(m, id, { status: null, errorCode: null, ...price });
        return 'ignored';
      }
      const applies = next !== null && next !== status && canTransition(status, next);
      await this.messages.applyReceipt(m, id, {
        status: applies ? next : null,
        errorCode: applies && r.errorCode ? `${r.provider}:${r.errorCode}` : null,
        ...price,
      });
      await this.messages.insertEvent(m, id, next ?? status, r.source, {
        provider_status: r.providerStatus,
        applied: applies,
        error_code: r.errorCode ?? null,
      });
      return applies ? 'applied' : 'ignored';
    });
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
