import twilio from 'twilio';
import type {
  MessageInstance,
  MessageListInstanceCreateOptions,
} from 'twilio/lib/rest/api/v2010/account/message';
import { whatsappAddress } from '../../core/channels';
import { Micros, parseMoney } from '../../core/money';
import { senderKind } from '../../core/sender-identity';
import { DeliveryReceipt } from '../receipts';
import {
  CONNECTION_ERROR_CODES,
  FoundMessage,
  InboundSms,
  OutboundSms,
  ProviderError,
  ProviderSendResult,
  ProviderStatus,
  SentLookup,
  SmsProvider,
  WebhookAck,
  WebhookRequest,
} from '../sms-provider';
import { TwilioHttpClient } from './twilio-http-client';
import { fromTwilioStatus } from './twilio-status';
import {
  EMPTY_TWIML,
  parseTwilioInbound,
  parseTwilioStatus,
  twimlReply,
  verifyTwilioSignature,
} from './twilio-webhooks';

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  apiBaseUrl?: string;
  timeoutMs: number;
  /** Where Twilio posts status callbacks (PUBLIC_BASE_URL + /api/sms/webhooks/twilio/status). */
  statusCallbackUrl?: string;
  /** The clock for inbound messages' receivedAt (tests inject one). */
  now?: () => Date;
  /** The WhatsApp sender (E.164) when a WhatsApp message names none (TWILIO_WHATSAPP_FROM). */
  whatsappFrom?: string;
}

/** Twilio's ValidityPeriod range, in whole seconds (1 to 36,000: 10 hours, its default). */
export const TWILIO_MIN_VALIDITY_PERIOD = 1;
export const TWILIO_MAX_VALIDITY_PERIOD = 36_000;

/**
 * Pure: the ValidityPeriod Twilio gets for a message with `secondsLeft` of its validity: clamped to
 * Twilio's range (beyond 10 hours Twilio's own limit applies anyway); undefined without a validity.
 */
export function twilioValidityPeriod(secondsLeft: number | undefined): number | undefined {
  if (secondsLeft === undefined) return undefined;
  return Math.min(TWILIO_MAX_VALIDITY_PERIOD, Math.max(TWILIO_MIN_VALIDITY_PERIOD, Math.ceil(secondsLeft)));
}

/** Twilio's code for a recipient who replied STOP to this sender. */
const OPTED_OUT = 21610;
/** findSent reads at most this many messages to one number in the window. */
const FIND_SENT_LIMIT = 200;

/**
 * Twilio error codes that mean the recipient or content is bad: retrying or falling back to
 * another provider cannot help (invalid number, not mobile, opted out, region off, spam-blocked…).
 */
const PERMANENT_CODES = new Set([
  21211, 21212, 21217, 21408, 21421, 21610, 21612, 21614, 21617, 21635, 30003, 30004, 30005, 30006, 30007,
  30008,
]);
interface ErrorLike {
  status?: number;
  code?: number | string;
  message?: string;
}

/** Pure: which kind of failure a Twilio SDK error is. */
export function classifyTwilioError(e: unknown): ProviderError {
  const err = (typeof e === 'object' && e !== null ? e : {}) as ErrorLike;
  if (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT' || /timeout/i.test(err.message ?? '')) {
    return new ProviderError('twilio', 'timeout', 'twilio:timeout', 'Twilio did not answer in time');
  }
  if (typeof err.code === 'string' && CONNECTION_ERROR_CODES.has(err.code)) {
    return new ProviderError(
      'twilio',
      'retryable',
      `twilio:${err.code}`,
      `cannot reach Twilio (${err.code})`,
    );
  }
  if (typeof err.code === 'number' && PERMANENT_CODES.has(err.code)) {
    return new ProviderError(
      'twilio',
      'permanent',
      `twilio:${err.code}`,
      err.message ?? `Twilio error ${err.code}`,
      err.code === OPTED_OUT,
    );
  }
  const status = err.status ?? 0;
  if (status === 401 || status === 403 || err.code === 20003) {
    return new ProviderError('twilio', 'retryable', 'twilio:auth', 'Twilio refused the credentials');
  }
  if (status === 429 || status >= 500) {
    return new ProviderError('twilio', 'retryable', `twilio:http_${status}`, `Twilio answered ${status}`);
  }
  if (status >= 400) {
    // Any other 4xx is about this request (e.g. 21602 empty body): sending it again cannot help.
    const code = typeof err.code === 'number' ? err.code : `http_${status}`;
    return new ProviderError(
      'twilio',
      'permanent',
      `twilio:${code}`,
      err.message ?? `Twilio answered ${status}`,
    );
  }
  return new ProviderError('twilio', 'retryable', 'twilio:unknown', err.message ?? 'unknown Twilio error');
}

/**
 * Pure: who a message is from. The message's own sender: a Messaging Service SID as
 * `MessagingServiceSid`, a number or an alphanumeric sender ID as `From`; none: the configured
 * TWILIO_MESSAGING_SERVICE_SID, else TWILIO_PHONE_NUMBER.
 */
export function twilioSender(
  sender: string | null | undefined,
  defaults: Pick<TwilioOptions, 'from' | 'messagingServiceSid'>,
): { from: string } | { messagingServiceSid: string } {
  if (sender)
    return senderKind(sender) === 'messaging_service' ? { messagingServiceSid: sender } : { from: sender };
  return defaults.messagingServiceSid
    ? { messagingServiceSid: defaults.messagingServiceSid }
    : { from: defaults.from as string };
}

/**
 * Pure: who, to whom and what, per channel (docs/sending.md#channels). SMS: `To`, `Body` and the
 * sender. WhatsApp: `whatsapp:`-prefixed `From` (the message's sender, else TWILIO_WHATSAPP_FROM;
 * never a Messaging Service) and `To`; `Body` inside the session window, else the approved
 * template (`ContentSid`, `ContentVariables` as JSON). MMS: as SMS plus one `MediaUrl` per medium.
 */
export function twilioContent(
  sms: OutboundSms,
  defaults: Pick<TwilioOptions, 'from' | 'messagingServiceSid' | 'whatsappFrom'>,
): MessageListInstanceCreateOptions {
  if (sms.channel === 'whatsapp') {
    const from = sms.sender ?? defaults.whatsappFrom;
    if (!from)
      throw new ProviderError(
        'twilio',
        'permanent',
        'twilio:no_whatsapp_sender',
        'no WhatsApp sender is configured',
      );
    const address = { to: whatsappAddress(sms.to), from: whatsappAddress(from) };
    if (sms.whatsappMode === 'template' && sms.contentSid)
      return {
        ...address,
        contentSid: sms.contentSid,
        ...(sms.contentVariables ? { contentVariables: JSON.stringify(sms.contentVariables) } : {}),
      };
    return { ...address, body: sms.body };
  }
  const base = { to: sms.to, body: sms.body, ...twilioSender(sms.sender, defaults) };
  if (sms.channel === 'mms') return { ...base, mediaUrl: sms.mediaUrls ?? [] };
  return base;
}

/** Twilio's price string ("-0.00790") as a charge in micro-units; null when absent or garbage. */
function chargeOf(price: string | null | undefined): Micros | null {
  const micros = parseMoney(price);
  return micros === null ? null : Math.abs(micros);
}

function statusOf(m: MessageInstance): ProviderStatus {
  return {
    status: fromTwilioStatus(m.status),
    providerStatus: m.status,
    price: chargeOf(m.price),
    currency: m.priceUnit ? m.priceUnit.toUpperCase() : null,
    errorCode: m.errorCode ? String(m.errorCode) : undefined,
  };
}

export class TwilioProvider implements SmsProvider {
  readonly name = 'twilio' as const;
  private readonly client: twilio.Twilio;

  constructor(private readonly opts: TwilioOptions) {
    if (!opts.from && !opts.messagingServiceSid) {
      throw new Error('Twilio needs TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID');
    }
    this.client = twilio(opts.accountSid, opts.authToken, {
      httpClient: new TwilioHttpClient(opts.apiBaseUrl, opts.timeoutMs),
      autoRetry: false,
    });
  }

  async send(sms: OutboundSms): Promise<ProviderSendResult> {
    const callback = this.opts.statusCallbackUrl;
    // Twilio drops the message itself if it is still in Twilio's queue when this runs out.
    const validityPeriod = twilioValidityPeriod(sms.validitySeconds);
    try {
      const m = await this.client.messages.create({
        ...twilioContent(sms, this.opts),
        ...(callback ? { statusCallback: callback } : {}),
        ...(validityPeriod === undefined ? {} : { validityPeriod }),
      });
      return {
        provider: 'twilio',
        providerMessageId: m.sid,
        status: m.status === 'delivered' ? 'delivered' : 'sent',
        cost: chargeOf(m.price),
        currency: m.priceUnit ? m.priceUnit.toUpperCase() : null,
      };
    } catch (e) {
      throw classifyTwilioError(e);
    }
  }

  classifyError(e: unknown): ProviderError {
    return classifyTwilioError(e);
  }

  /**
   * A harmless read that proves the credentials (a tenant's own account, on save): Twilio's
   * account resource, GET /2010-04-01/Accounts/{Sid}.json. Throws the classified error.
   */
  async checkAccount(): Promise<void> {
    try {
      const a = await this.client.api.v2010.accounts(this.opts.accountSid).fetch();
      if (a.status && a.status !== 'active')
        throw new ProviderError(
          'twilio',
          'permanent',
          'twilio:account_' + a.status,
          `the Twilio account is ${a.status}`,
        );
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      throw classifyTwilioError(e);
    }
  }

  async fetchStatus(providerMessageId: string): Promise<ProviderStatus> {
    try {
      return statusOf(await this.client.messages(providerMessageId).fetch());
    } catch (e) {
      throw classifyTwilioError(e);
    }
  }

  /**
   * Twilio's newest messages to `to`, narrowed here to outbound ones CREATED in the window. Not
   * Twilio's DateSent filter: DateSent stays empty while a message waits in Twilio's own queue, so
   * that filter would hide a message Twilio holds and invite a resend. Every one is returned,
   * marked whether its text is ours: Smart Encoding may have rewritten the text, and the caller
   * must not take "another text" for "nothing".
   */
  async findSent(lookup: SentLookup): Promise<FoundMessage[]> {
    try {
      const list = await this.client.messages.list({ to: lookup.to, pageSize: 50, limit: FIND_SENT_LIMIT });
      return list
        .filter(
          (m) => m.direction !== 'inbound' && m.dateCreated >= lookup.after && m.dateCreated <= lookup.before,
        )
        .map((m) => ({ providerMessageId: m.sid, sameBody: m.body === lookup.body, ...statusOf(m) }));
    } catch (e) {
      throw classifyTwilioError(e);
    }
  }

  parseStatusCallback(req: WebhookRequest): DeliveryReceipt[] {
    return [parseTwilioStatus(verifyTwilioSignature(this.opts.authToken, req))];
  }

  parseInbound(req: WebhookRequest): { messages: InboundSms[]; ack: WebhookAck } {
    const form = verifyTwilioSignature(this.opts.authToken, req);
    const now = this.opts.now?.() ?? new Date();
    return { messages: [parseTwilioInbound(form, now)], ack: EMPTY_TWIML };
  }

  inboundReply(text: string): WebhookAck {
    return twimlReply(text);
  }
}
