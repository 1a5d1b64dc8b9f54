import { randomBytes } from 'node:crypto';
import { OutboundSms, ProviderError, ProviderSendResult, SmsProvider } from '../sms-provider';

export interface SandboxOptions {
  latencyMs: number;
  deliveryDelayMs: number;
  onDeliveryReceipt?: (
    providerMessageId: string,
    status: 'delivered' | 'undelivered',
    errorCode?: string,
  ) => void;
}

/** Twilio's magic test numbers, so every failure path can be tried locally. */
const FAILURES: Record<
  string,
  { kind: 'permanent' | 'retryable'; code: string; message: string; optedOut?: boolean }
> = {
  '+15005550001': { kind: 'permanent', code: 'sandbox:21211', message: 'invalid phone number' },
  '+15005550004': {
    kind: 'permanent',
    code: 'sandbox:21610',
    message: 'recipient has opted out (blocked)',
    optedOut: true,
  },
  '+15005550009': { kind: 'permanent', code: 'sandbox:21614', message: 'number is not SMS-capable' },
  '+15005550010': { kind: 'retryable', code: 'sandbox:http_503', message: 'sandbox outage' },
};

/** The default provider when none is configured: accepts, then simulates a delivery receipt. */
export class SandboxProvider implements SmsProvider {
  readonly name = 'sandbox' as const;
  /**
   * Receipts not yet given, in the order they fall due (every one waits the same delay), under one
   * timer. A timer per message held ~300 bytes for the whole delay (the bench defers receipts an
   * hour: 6 MiB for 20,000 messages); an id and a time here, ~70.
   */
  private ids: string[] = [];
  private due: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: SandboxOptions) {}

  async send(sms: OutboundSms): Promise<ProviderSendResult> {
    if (this.opts.latencyMs > 0) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
    const failure = FAILURES[sms.to];
    if (failure) {
      throw new ProviderError('sandbox', failure.kind, failure.code, failure.message, failure.optedOut);
    }
    const id = `SB${randomBytes(16).toString('hex')}`;
    if (this.opts.onDeliveryReceipt) {
      this.ids.push(id);
      this.due.push(Date.now() + this.opts.deliveryDelayMs);
      if (this.timer === null) this.arm();
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ids = [];
    this.due = [];
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
    const receipt = this.opts.onDeliveryReceipt;
    const now = Date.now();
    try {
      while (this.head < this.ids.length && this.due[this.head] <= now) {
        const id = this.ids[this.head++];
        receipt?.(id, 'delivered');
      }
    } finally {
      // Given receipts leave the queue (at once when it is empty, else in steps).
      if (this.head === this.ids.length || this.head >= 4096) {
        this.ids = this.ids.slice(this.head);
        this.due = this.due.slice(this.head);
        this.head = 0;
      }
      if (this.head < this.ids.length) this.arm();
    }
  }
}
