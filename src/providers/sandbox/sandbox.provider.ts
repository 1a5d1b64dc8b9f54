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
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: SandboxOptions) {}

  async send(sms: OutboundSms): Promise<ProviderSendResult> {
    if (this.opts.latencyMs > 0) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
    const failure = FAILURES[sms.to];
    if (failure) {
      throw new ProviderError('sandbox', failure.kind, failure.code, failure.message, failure.optedOut);
    }
    const id = `SB${randomBytes(16).toString('hex')}`;
    const receipt = this.opts.onDeliveryReceipt;
    if (receipt) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        receipt(id, 'delivered');
      }, this.opts.deliveryDelayMs);
      timer.unref();
      this.timers.add(timer);
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
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
