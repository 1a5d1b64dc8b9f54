import twilio from 'twilio';
import { fromTwilioStatus } from './twilio-status';
import {
  CONNECTION_ERROR_CODES,
  FoundMessage,
  OutboundSms,
  SentLookup,
  ProviderStatus,
  ProviderError,
  ProviderSendResult,
  SmsProvider,
} from '../sms-provider';
import { TwilioHttpClient } from './twilio-http-client';

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  apiBaseUrl?: string;
  timeoutMs: number;
}

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
    try {
      const m = await this.client.messages.create({
        to: sms.to,
        body: sms.body,
        ...(this.opts.messagingServiceSid
          ? { messagingServiceSid: this.opts.messagingServiceSid }
          : { from: this.opts.from }),
        ...(sms.statusCallbackUrl ? { statusCallback: sms.statusCallbackUrl } : {}),
      });
      const price = m.price === null || m.price === undefined ? null : Math.abs(Number(m.price));
      return {
        provider: 'twilio',
        providerMessageId: m.sid,
        status: m.status === 'delivered' ? 'delivered' : 'sent',
        cost: price !== null && Number.isFinite(price) ? price : null,
        currency: m.priceUnit ? m.priceUnit.toUpperCase() : null,
      };
    } catch (e) {
      throw classifyTwilioError(e);
    }
  }

  async fetchStatus(providerMessageId: string): Promise<ProviderStatus> {
    try {
      const m = await this.client.messages(providerMessageId).fetch();
      const price = m.price === null || m.price === undefined ? null : Number(m.price);
      return {
        status: fromTwilioStatus(m.status),
        providerStatus: m.status,
        price: price !== null && Number.isFinite(price) ? price : null,
        priceUnit: m.priceUnit ? m.priceUnit.toUpperCase() : null,
        errorCode: m.errorCode ? String(m.errorCode) : undefined,
      };
    } catch (e) {
      throw classifyTwilioError(e);
    }
  }

  /**
   * Twilio's message list by recipient and send-time window, narrowed to the body (outbound only).
   * An empty list means Twilio did not create the message.
   */
  async findSent(lookup: SentLookup): Promise<FoundMessage[]> {
    try {
      const list = await this.client.messages.list({
        to: lookup.to,
        dateSentAfter: lookup.after,
        dateSentBefore: lookup.before,
        limit: 100,
      });
      return list
        .filter((m) => m.body === lookup.body && m.direction !== 'inbound')
        .map((m) => ({
          providerMessageId: m.sid,
          status: fromTwilioStatus(m.status),
          providerStatus: m.status,
          price: m.price === null || m.price === undefined ? null : Number(m.price),
          priceUnit: m.priceUnit ? m.priceUnit.toUpperCase() : null,
          errorCode: m.errorCode ? String(m.errorCode) : undefined,
        }));
    } catch (e) {
      throw classifyTwilioError(e);
    }
  }
}
