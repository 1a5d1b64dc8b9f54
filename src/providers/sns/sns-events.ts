/**
 * What AWS End User Messaging SMS publishes to an SNS topic, read into our vocabulary. Pure.
 * - delivery events of an event destination: {"eventType":"TEXT_DELIVERED","messageId":…,
 *   "totalMessagePrice":0.00581,"totalCarrierFee":0.00266,…} → a DeliveryReceipt;
 * - two-way SMS (inbound): {"originationNumber":…,"destinationNumber":…,"messageBody":…,
 *   "inboundMessageId":…} → an InboundSms.
 */
import { MessageStatus } from '../../core/message-types';
import { parseMoney, sumMicros } from '../../core/money';
import { DeliveryReceipt } from '../receipts';
import { InboundSms, WebhookRejectedError } from '../sms-provider';

/**
 * Event type → our status. null: nothing new (still on its way). Carrier-side outcomes are
 * `undelivered`; a request AWS or the carrier refused as invalid is `failed`.
 */
export const SNS_EVENT_STATUS: Readonly<Record<string, MessageStatus | null>> = {
  TEXT_PENDING: null,
  TEXT_QUEUED: null,
  TEXT_UNKNOWN: null,
  TEXT_SUCCESSFUL: 'sent',
  TEXT_DELIVERED: 'delivered',
  TEXT_BLOCKED: 'undelivered',
  TEXT_CARRIER_BLOCKED: 'undelivered',
  TEXT_SPAM: 'undelivered',
  TEXT_CARRIER_UNREACHABLE: 'undelivered',
  TEXT_UNREACHABLE: 'undelivered',
  TEXT_TTL_EXPIRED: 'undelivered',
  TEXT_INVALID: 'failed',
  TEXT_INVALID_MESSAGE: 'failed',
  TEXT_PROTECT_BLOCKED: 'failed',
  TEXT_OPTED_OUT: 'failed',
};

/** AWS bills End User Messaging SMS in US dollars. */
const SNS_CURRENCY = 'USD';
const MAX_PRICE_MICROS = 100 * 1_000_000;
const ID = /^[A-Za-z0-9-]{1,100}$/;
const PHONE = /^\+?[0-9A-Za-z]{2,20}$/;
const MAX_BODY_CHARS = 1600;
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type SnsEvent =
  | { kind: 'receipt'; receipt: DeliveryReceipt }
  | { kind: 'inbound'; message: InboundSms }
  | { kind: 'other'; what: string };

/** Reads a notification's Message (JSON text) as a delivery event or an inbound text. */
export function parseSnsEvent(message: string, receivedAt: Date): SnsEvent {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { kind: 'other', what: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { kind: 'other', what: 'not an object' };
  const e = value as Record<string, unknown>;
  if (typeof e.eventType === 'string' && e.eventType.startsWith('TEXT_'))
    return { kind: 'receipt', receipt: receipt(e) };
  if (typeof e.originationNumber === 'string' && typeof e.inboundMessageId === 'string')
    return { kind: 'inbound', message: inbound(e, receivedAt) };
  return { kind: 'other', what: typeof e.eventType === 'string' ? e.eventType.slice(0, 40) : 'unknown' };
}

function receipt(e: Record<string, unknown>): DeliveryReceipt {
  const word = e.eventType as string;
  if (!/^TEXT_[A-Z_]{1,40}$/.test(word)) throw bad('eventType', 'is not an SMS event type');
  const id = text(e, 'messageId', true) as string;
  if (!ID.test(id)) throw bad('messageId', 'is not a message id');
  const parts = [price(e, 'totalMessagePrice'), price(e, 'totalCarrierFee')].filter((p) => p !== null);
  const status = Object.hasOwn(SNS_EVENT_STATUS, word) ? SNS_EVENT_STATUS[word] : null;
  return {
    provider: 'sns',
    providerMessageId: id,
    status,
    providerStatus: word.toLowerCase(),
    errorCode: status === 'failed' || status === 'undelivered' ? word : undefined,
    price: parts.length ? sumMicros(parts) : null,
    currency: parts.length ? SNS_CURRENCY : null,
    source: 'sns_webhook',
  };
}

function inbound(e: Record<string, unknown>, receivedAt: Date): InboundSms {
  const id = text(e, 'inboundMessageId', true) as string;
  if (!ID.test(id)) throw bad('inboundMessageId', 'is not a message id');
  const from = text(e, 'originationNumber', true) as string;
  const to = text(e, 'destinationNumber', true) as string;
  if (!PHONE.test(from)) throw bad('originationNumber', 'is not a phone number');
  if (!PHONE.test(to)) throw bad('destinationNumber', 'is not a phone number or sender id');
  const body = text(e, 'messageBody') ?? '';
  if (body.length > MAX_BODY_CHARS) throw bad('messageBody', `is longer than ${MAX_BODY_CHARS} characters`);
  return { provider: 'sns', from, to, body, providerMessageId: id, receivedAt };
}

function text(e: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = e[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw bad(name, 'is required');
    return undefined;
  }
  if (typeof v !== 'string') throw bad(name, 'must be a string');
  if (UNSTORABLE.test(v)) throw bad(name, 'contains a NUL or an unpaired surrogate');
  return v;
}

function price(e: Record<string, unknown>, name: string): number | null {
  const v = e[name];
  if (v === undefined || v === null) return null;
  const micros = typeof v === 'number' || typeof v === 'string' ? parseMoney(v) : null;
  if (micros === null || micros < 0 || micros > MAX_PRICE_MICROS)
    throw bad(name, 'is not an amount within 0-100');
  return micros;
}

function bad(name: string, what: string): WebhookRejectedError {
  return new WebhookRejectedError('payload', `${name} ${what}`, name);
}
