import { MessageType, ProviderName } from '../messaging/message-types';

export interface OutboundSms {
  messageId: string;
  tenantId: number;
  /** E.164 */
  to: string;
  body: string;
  messageType: MessageType;
  statusCallbackUrl?: string;
}

export interface ProviderSendResult {
  provider: ProviderName;
  providerMessageId: string;
  status: 'sent' | 'delivered';
  cost: number | null;
  currency: string | null;
}

/** retryable: try the next provider / a later attempt; permanent: the recipient or content is bad; timeout: unknown outcome. */
export type ProviderFailureKind = 'retryable' | 'permanent' | 'timeout';

export class ProviderError extends Error {
  constructor(
    readonly provider: ProviderName,
    readonly kind: ProviderFailureKind,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface ProviderAttempt {
  provider: ProviderName;
  code: string;
  message: string;
}

/** Every provider failed retryably or was skipped by its open circuit. */
export class AllProvidersFailedError extends ProviderError {
  constructor(readonly attempts: ProviderAttempt[]) {
    const last = attempts[attempts.length - 1];
    super(
      last?.provider ?? 'sandbox',
      'retryable',
      last?.code ?? 'no_provider_available',
      attempts.length
        ? attempts.map((a) => `${a.provider}: ${a.message}`).join('; ')
        : 'no provider available',
    );
    this.name = 'AllProvidersFailedError';
  }
}

/** Socket-level failures: the provider was not reached, so trying elsewhere is safe. */
export const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EPIPE',
]);

/** What a provider says now about a message it accepted (its own status words). */
export interface ProviderStatus {
  status: string;
  price: number | null;
  priceUnit: string | null;
  errorCode?: string;
}

export interface SmsProvider {
  readonly name: ProviderName;
  send(sms: OutboundSms): Promise<ProviderSendResult>;
  /** Asks the provider for a message's status, where its API allows (Twilio does, SNS does not). */
  fetchStatus?(providerMessageId: string): Promise<ProviderStatus>;
}
