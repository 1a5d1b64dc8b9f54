import { Injectable } from '@nestjs/common';
import { ProviderName } from '../messaging/message-types';

export interface DeliveryReceipt {
  provider: ProviderName;
  providerMessageId: string;
  /** The provider's own status word (e.g. Twilio's 'delivered'), mapped by the consumer. */
  providerStatus: string;
  errorCode?: string;
  price?: number | null;
  priceUnit?: string | null;
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
