import type { Channel, WhatsappMode } from '../core/channels';
import { MessageStatus, MessageType, ProviderName } from '../core/message-types';
import type { Micros } from '../core/money';
import type { DeliveryReceipt } from './receipts';

export interface OutboundSms {
  messageId: string;
  tenantId: number;
  /** E.164 */
  to: string;
  body: string;
  messageType: MessageType;
  /** Sent as transactional SMS (SNS SMSType); absent: the message type decides. */
  transactional?: boolean;
  /**
   * Who it is from (the tenant's sender for the destination, `core/sender-identity`): a number
   * (+E.164), a Twilio Messaging Service SID (MG…) or an alphanumeric sender ID; its form says
   * which. Absent or null: the provider's configured default.
   */
  sender?: string | null;
  /** Which attempt of the message this is (1 = the first); the sandbox's test numbers script by it. */
  attempt?: number;
  /**
   * Whole seconds left of the message's validity period as this provider is called (the worker
   * sets it before each call, ≥ 1); absent: no validity. A provider that can drop a message left
   * waiting in its own queue passes it on (Twilio's ValidityPeriod); others ignore it.
   */
  validitySeconds?: number;
  // --- channels (issue 25, docs/sending.md#channels) ---
  /** Absent: sms. Only a provider whose `channels` lists it may take the message. */
  channel?: Channel;
  /** mms: the media URLs (checked at accept like callback URLs). */
  mediaUrls?: string[];
  /** whatsapp: which form applies (session: `body` as free text; template: contentSid). */
  whatsappMode?: WhatsappMode;
  contentSid?: string;
  contentVariables?: Record<string, string>;
}

export interface ProviderSendResult {
  provider: ProviderName;
  providerMessageId: string;
  status: 'sent' | 'delivered';
  /** What the provider charged, in micro-units of `currency` (never negative); null: not told yet. */
  cost: Micros | null;
  /** ISO 4217 as the provider reported it (upper case), or null. */
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
    /** The recipient told this sender to stop (STOP): never text the number again for the tenant. */
    readonly optedOut = false,
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

/**
 * Every provider that could be tried failed retryably (the others were skipped by their open
 * circuit): the attempt is spent. `attempts` holds real answers only; code and message are the
 * last real provider error, never a circuit's.
 */
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

/**
 * The caller's `beforeCall` hook refused a provider (the worker could not record that its attempt
 * was about to go there): that provider was not called and the send stopped. Retryable: nothing
 * reached it. `attempts` holds the real answers of the providers tried before it.
 */
export class ProviderNotCalledError extends ProviderError {
  constructor(
    provider: ProviderName,
    readonly attempts: ProviderAttempt[],
    reason: unknown,
  ) {
    super(
      provider,
      'retryable',
      `${provider}:not_called`,
      `${provider} was not called: ${reason instanceof Error ? reason.message : String(reason)}`,
    );
    this.name = 'ProviderNotCalledError';
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
  /** Ours, mapped by the provider; null when its word tells nothing new (queued, accepted). */
  status: MessageStatus | null;
  /** The provider's own word. */
  providerStatus: string;
  /** What the provider charged, in micro-units of `currency` (never negative); null: not told. */
  price: Micros | null;
  currency: string | null;
  errorCode?: string;
}

/**
 * Every provider's circuit is open: nothing was tried, so the attempt is not spent. The caller
 * waits until `retryAt` (the next half-open trial); `lastError` is the last real provider answer,
 * kept on the row instead of a bare "circuit open".
 */
export class CircuitsOpenError extends ProviderError {
  constructor(
    readonly retryAt: number,
    readonly lastError: ProviderAttempt | null,
  ) {
    super(
      lastError?.provider ?? 'sandbox',
      'retryable',
      lastError?.code ?? 'circuit_open',
      lastError ? `every provider is down; last: ${lastError.message}` : 'every provider is down',
    );
    this.name = 'CircuitsOpenError';
  }
}

/** To find a message whose send outcome we do not know (a timeout, a worker that died mid-call). */
export interface SentLookup {
  to: string;
  body: string;
  /** The window in which the send may have been made. */
  after: Date;
  before: Date;
}

/** A message the provider holds, found by a SentLookup. */
export interface FoundMessage extends ProviderStatus {
  providerMessageId: string;
  /** The text is exactly the one looked up; false: another message to the same number in the window. */
  sameBody: boolean;
}

/** An HTTP request as a webhook controller saw it, for a provider to verify and parse. */
export interface WebhookRequest {
  /** The public URL the provider called (PUBLIC_BASE_URL + path and query). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Form fields or parsed JSON, as the body parser left them. */
  body: unknown;
  rawBody?: Buffer;
}

/** A text a recipient sent to one of our numbers, as the provider reported it. */
export interface InboundSms {
  provider: ProviderName;
  /** E.164 of the sender. */
  from: string;
  /** Our number (E.164) or sender id that received it. */
  to: string;
  /** Absent: sms; whatsapp when the provider says it came over WhatsApp (Twilio: From=whatsapp:+…). */
  channel?: 'sms' | 'whatsapp';
  body: string;
  providerMessageId: string;
  receivedAt: Date;
  /**
   * The provider's own reading of a keyword (Twilio's OptOutType: stop, start, help), when it
   * sent one; it has then answered the recipient itself.
   */
  optOutType?: 'stop' | 'start' | 'help';
}

/** What the provider expects as the answer to an inbound webhook (e.g. an empty TwiML document). */
export interface WebhookAck {
  contentType: string;
  body: string;
}

/**
 * A webhook the provider refused to take: `signature` (not from the provider: 403) or `payload`
 * (signed but unreadable: 400, naming the field). Never carries a secret.
 */
export class WebhookRejectedError extends Error {
  constructor(
    readonly reason: 'signature' | 'payload',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'WebhookRejectedError';
  }
}

export interface SmsProvider {
  readonly name: ProviderName;
  send(sms: OutboundSms): Promise<ProviderSendResult>;
  /**
   * Maps anything a call to this provider threw to a ProviderError (retryable, permanent or
   * timeout; `optedOut` when the recipient said STOP). The router uses it for non-ProviderErrors.
   */
  classifyError(e: unknown): ProviderError;
  /**
   * Verifies (signature) and parses a delivery status callback into receipts; throws
   * WebhookRejectedError. Absent when the provider does not call us with statuses.
   */
  parseStatusCallback?(req: WebhookRequest): DeliveryReceipt[];
  /** Verifies and parses an inbound-message webhook; throws WebhookRejectedError. */
  parseInbound?(req: WebhookRequest): { messages: InboundSms[]; ack?: WebhookAck };
  /** The answer to an inbound webhook that texts `text` back to the sender (e.g. TwiML <Message>). */
  inboundReply?(text: string): WebhookAck;
  /** Asks the provider for a message's status, where its API allows (Twilio does, SNS does not). */
  fetchStatus?(providerMessageId: string): Promise<ProviderStatus>;
  /**
   * Every outbound message to `to` created in the window (Twilio's message list), each marked
   * whether its text is the one looked up. An empty list proves the send was not created; absent
   * on providers that cannot be asked (SNS).
   */
  findSent?(lookup: SentLookup): Promise<FoundMessage[]>;
  /** A harmless read proving the credentials (a tenant account on save); throws a ProviderError. */
  checkAccount?(): Promise<void>;
  /** Releases sockets and timers. */
  close?(): void | Promise<void>;
}
