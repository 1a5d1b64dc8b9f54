import { Injectable } from '@nestjs/common';
import { MessageStatus, ProviderName } from '../core/message-types';
import type { Micros } from '../core/money';

export interface DeliveryReceipt {
  provider: ProviderName;
  providerMessageId: string;
  /** Our status, mapped by the provider that owns the vocabulary; null: nothing new (e.g. 'queued'). */
  status: MessageStatus | null;
  /** The provider's own status word (e.g. Twilio's 'delivered'), kept on the event. */
  providerStatus: string;
  errorCode?: string;
  /** What the provider charged, in micro-units of `currency` (never negative); null/absent: not told. */
  price?: Micros | null;
  /** ISO 4217 as the provider reported it (upper case). */
  currency?: string | null;
  source: string;
  payload?: Record<string, unknown>;
}

/**
 * Where delivery receipts go: webhooks and the sandbox publish, messaging subscribes. Keeps the
 * providers module free of any dependency on messaging.
 */
@Injectable()
export class DeliveryReceipts {
  private handler?: (r: DeliveryReceipt) => Promise<void>;

  subscribe(handler: (r: DeliveryReceipt) => Promise<void>): void {
    this.handler = handler;
  }

  async publish(r: DeliveryReceipt): Promise<void> {
    if (!this.handler) throw new Error('no delivery receipt handler is subscribed');
    await this.handler(r);
  }
}
