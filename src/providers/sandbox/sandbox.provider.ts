import { randomBytes } from 'node:crypto';
import { OutboundSms, ProviderError, ProviderSendResult, SmsProvider } from '../sms-provider';
import { sandboxAnswer } from './test-numbers';

export interface SandboxOptions {
  latencyMs: number;
  deliveryDelayMs: number;
  /** The delay of the slow-receipt test number's receipt (SANDBOX_SLOW_RECEIPT_MS). */
  slowReceiptMs: number;
  onDeliveryReceipt?: (
    providerMessageId: string,
    status: 'delivered' | 'undelivered',
    errorCode?: string,
  ) => void;
}

/**
 * The default provider when none is configured, and the one every test-mode message goes to:
 * accepts, then simulates a delivery receipt. The test numbers (`test-numbers.ts`) get their
 * scripted answer instead, so every outcome can be tried; any other number is delivered.
 */
export class SandboxProvider implements SmsProvider {
  readonly name = 'sandbox' as const;
  private readonly receipts: ReceiptQueue;
  private readonly slowReceipts: ReceiptQueue;

  constructor(private readonly opts: SandboxOptions) {
    const give = (id: string, r: Receipt) => opts.onDeliveryReceipt?.(id, r.status, r.errorCode);
    this.receipts = new ReceiptQueue(opts.deliveryDelayMs, give);
    this.slowReceipts = new ReceiptQueue(opts.slowReceiptMs, give);
  }

  async send(sms: OutboundSms): Promise<ProviderSendResult> {
    if (this.opts.latencyMs > 0) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
    const answer = sandboxAnswer(sms.to, sms.attempt);
    if (answer.kind === 'error') {
      throw new ProviderError('sandbox', answer.failure, answer.code, answer.message, answer.optedOut);
    }
    const id = `SB${randomBytes(16).toString('hex')}`;
    if (this.opts.onDeliveryReceipt) {
      const receipt: Receipt =
        answer.receipt === 'delivered' ? DELIVERED : { status: 'undelivered', errorCode: answer.errorCode };
      (answer.slow ? this.slowReceipts : this.receipts).add(id, receipt);
    }
    return { provider: 'sandbox', providerMessageId: id, status: 'sent', cost: null, currency: null };
  }

  classifyError(e: unknown): ProviderError {
    return new ProviderError(
      'sandbox',
      'retryable',
      'sandbox:unexpected',
      e instanceof Error ? e.message : String(e),
    );
  }

  close(): void {
    this.receipts.clear();
    this.slowReceipts.clear();
  }
}

interface Receipt {
  status: 'delivered' | 'undelivered';
  errorCode?: string;
}

/** Shared by every delivered receipt (the common case allocates nothing per message). */
const DELIVERED: Receipt = { status: 'delivered' };

/**
 * Receipts not yet given that all wait the same delay, so they fall due in the order they were
 * added, under one timer. A timer per message held ~300 bytes for the whole delay (the bench
 * defers receipts an hour: 6 MiB for 20,000 messages); an id, a time and a shared receipt here, ~80.
 */
class ReceiptQueue {
  private ids: string[] = [];
  private due: number[] = [];
  private receipts: Receipt[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly delayMs: number,
    private readonly give: (id: string, receipt: Receipt) => void,
  ) {}

  add(id: string, receipt: Receipt): void {
    this.ids.push(id);
    this.due.push(Date.now() + this.delayMs);
    this.receipts.push(receipt);
    if (this.timer === null) this.arm();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ids = [];
    this.due = [];
    this.receipts = [];
    this.head = 0;
  }

  /** One timer, for the oldest receipt not yet given. */
  private arm(): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.due[this.head] - Date.now()));
    this.timer.unref();
  }

  /** Gives every receipt now due, then waits for the next one. */
  private fire(): void {
    this.timer = null;
    const now = Date.now();
    try {
      while (this.head < this.ids.length && this.due[this.head] <= now) {
        const at = this.head++;
        this.give(this.ids[at], this.receipts[at]);
      }
    } finally {
      // Given receipts leave the queue (at once when it is empty, else in steps).
      if (this.head === this.ids.length || this.head >= 4096) {
        this.ids = this.ids.slice(this.head);
        this.due = this.due.slice(this.head);
        this.receipts = this.receipts.slice(this.head);
        this.head = 0;
      }
      if (this.head < this.ids.length) this.arm();
    }
  }
}
