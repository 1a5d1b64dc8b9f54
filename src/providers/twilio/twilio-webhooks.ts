/**
 * Twilio's webhooks: signature check and strict parsing of status callbacks and inbound messages.
 * Pure (the clock is passed in). A signed request is still untrusted input: a field that is not
 * what Twilio sends is refused (400), never stored or passed on.
 */
import twilio from 'twilio';
import { stripWhatsapp } from '../../core/channels';
import { parseMoney } from '../../core/money';
import { DeliveryReceipt } from '../receipts';
import { InboundSms, WebhookAck, WebhookRejectedError, WebhookRequest } from '../sms-provider';
import { fromTwilioStatus } from './twilio-status';

/** Twilio's message SIDs: SMS (SM) and MMS (MM), 32 lower-case hex digits. */
const MESSAGE_SID = /^(SM|MM)[0-9a-f]{32}$/;
/** Every status word Twilio's messaging callbacks use. */
const TWILIO_STATUSES = new Set([
  'accepted',
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'read',
  'canceled',
  'partially_delivered',
  'receiving',
  'received',
]);
/** No single SMS costs more than this (in currency units); beyond it the field is garbage. */
const MAX_PRICE_UNITS = 100;
const MAX_BODY_CHARS = 1600; // Twilio's limit for a concatenated message
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const EMPTY_TWIML: WebhookAck = {
  contentType: 'text/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
};

type Form = Record<string, unknown>;

/** Refuses a request whose X-Twilio-Signature is not Twilio's HMAC of url + params. */
export function verifyTwilioSignature(authToken: string, req: WebhookRequest): Form {
  const signature = req.headers['x-twilio-signature'];
  const form = isForm(req.body) ? req.body : {};
  if (typeof signature !== 'string' || !twilio.validateRequest(authToken, signature, req.url, form)) {
    throw new WebhookRejectedError('signature', 'invalid Twilio signature');
  }
  return form;
}

/** A status callback (a message we sent moved on) as one receipt. */
export function parseTwilioStatus(form: Form): DeliveryReceipt {
  const sid = field(form, 'MessageSid', true) as string;
  if (!MESSAGE_SID.test(sid)) throw bad('MessageSid', 'is not a Twilio message SID');
  const word = (field(form, 'MessageStatus', true) as string).toLowerCase();
  if (!TWILIO_STATUSES.has(word)) throw bad('MessageStatus', 'is not a Twilio message status');
  const errorCode = field(form, 'ErrorCode');
  if (errorCode !== undefined && !/^\d{1,6}$/.test(errorCode)) throw bad('ErrorCode', 'is not a number');
  const priceText = field(form, 'Price');
  let price: number | null = null;
  if (priceText !== undefined) {
    const micros = parseMoney(priceText);
    if (micros === null || Math.abs(micros) > MAX_PRICE_UNITS * 1_000_000) {
      throw bad('Price', `is not an amount within ±${MAX_PRICE_UNITS}`);
    }
    price = Math.abs(micros); // Twilio reports a charge as a negative amount
  }
  const unit = field(form, 'PriceUnit');
  if (unit !== undefined && !/^[A-Za-z]{3}$/.test(unit)) throw bad('PriceUnit', 'is not a currency code');
  return {
    provider: 'twilio',
    providerMessageId: sid,
    status: fromTwilioStatus(word),
    providerStatus: word,
    errorCode: errorCode || undefined,
    price,
    currency: unit ? unit.toUpperCase() : null,
    source: 'twilio_webhook',
  };
}

/** An incoming message (a recipient texted one of our numbers). */
export function parseTwilioInbound(form: Form, receivedAt: Date): InboundSms {
  const sid = field(form, 'MessageSid', true) as string;
  if (!MESSAGE_SID.test(sid)) throw bad('MessageSid', 'is not a Twilio message SID');
  // WhatsApp (issue 25): Twilio writes both addresses as whatsapp:+…; the numbers are kept bare.
  const rawFrom = stripWhatsapp(field(form, 'From', true) as string);
  const from = rawFrom.number;
  const to = stripWhatsapp(field(form, 'To', true) as string).number;
  if (rawFrom.whatsapp && !from.startsWith('+')) throw bad('From', 'is not a WhatsApp number');
  for (const [name, v] of [
    ['From', from],
    ['To', to],
  ] as const) {
    if (!/^\+?[0-9A-Za-z]{2,20}$/.test(v)) throw bad(name, 'is not a phone number or sender id');
  }
  const body = field(form, 'Body') ?? '';
  if (body.length > MAX_BODY_CHARS) throw bad('Body', `is longer than ${MAX_BODY_CHARS} characters`);
  const optOut = field(form, 'OptOutType')?.toLowerCase();
  const optOutType = optOut === 'stop' || optOut === 'start' || optOut === 'help' ? optOut : undefined;
  return {
    provider: 'twilio',
    from,
    to,
    body,
    providerMessageId: sid,
    receivedAt,
    optOutType,
    ...(rawFrom.whatsapp ? { channel: 'whatsapp' as const } : {}),
  };
}

/** TwiML that texts `text` back to the sender of an inbound message (XML-escaped). */
export function twimlReply(text: string): WebhookAck {
  const escaped = text.replace(/[<>&'"]/g, (c) => XML_ENTITIES[c]);
  return {
    contentType: 'text/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${escaped}</Message></Response>`,
  };
}

const XML_ENTITIES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  "'": '&apos;',
  '"': '&quot;',
};

/**
 * A form as Twilio posts it: each field a string, a repeated one a list of strings. Anything else
 * (a JSON body) is no Twilio request; its values are never handed to the signature check, which
 * would fail on one that is not a string (an object whose toString is not callable: a 500).
 */
function isForm(body: unknown): body is Form {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  return Object.values(body).every(
    (v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')),
  );
}

/** One form field as a single storable string; a repeated field (an array) is refused. */
function field(form: Form, name: string, required = false): string | undefined {
  const v = form[name];
  if (v === undefined || v === '') {
    if (required) throw bad(name, 'is required');
    return undefined;
  }
  if (typeof v !== 'string') throw bad(name, 'must be given once');
  if (UNSTORABLE.test(v)) throw bad(name, 'contains a NUL or an unpaired surrogate');
  return v;
}

function bad(name: string, what: string): WebhookRejectedError {
  return new WebhookRejectedError('payload', `${name} ${what}`, name);
}
