import { randomBytes } from 'node:crypto';
import { Answer, FakeHttpServer, RecordedRequest } from './fake-http';

export const FAKE_TWILIO_SID = 'AC' + '0'.repeat(32);
export const FAKE_TWILIO_TOKEN = 'fake-twilio-auth-token-0000000000';

/** Twilio's JSON error body, as its REST API answers. */
export function twilioError(status: number, code: number, message: string): Answer {
  return {
    status,
    contentType: 'application/json',
    body: JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }),
  };
}

/**
 * Speaks Twilio's Messages API: POST /2010-04-01/Accounts/{Sid}/Messages.json, form-encoded,
 * HTTP Basic auth; 201 with the message resource, or Twilio's error JSON.
 */
export class FakeTwilio extends FakeHttpServer {
  /** Messages created successfully (the SMS that "went out"). */
  readonly sent: { sid: string; to: string; body: string; from?: string; statusCallback?: string }[] = [];

  protected answer(req: RecordedRequest): Answer {
    const match = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\.json$/.exec(req.path);
    if (req.method !== 'POST' || !match)
      return twilioError(404, 20404, 'The requested resource was not found');
    const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    if (auth !== `${FAKE_TWILIO_SID}:${FAKE_TWILIO_TOKEN}` || match[1] !== FAKE_TWILIO_SID) {
      return twilioError(401, 20003, 'Authenticate');
    }
    const {
      To: to,
      Body: body,
      From: from,
      StatusCallback: statusCallback,
      MessagingServiceSid: mss,
    } = req.form;
    if (!to || !/^\+[1-9]\d{6,14}$/.test(to))
      return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    const sid = `SM${randomBytes(16).toString('hex')}`;
    this.sent.push({ sid, to, body, from, statusCallback });
    const now = new Date().toUTCString();
    return {
      status: 201,
      contentType: 'application/json',
      body: JSON.stringify({
        sid,
        account_sid: FAKE_TWILIO_SID,
        messaging_service_sid: mss ?? null,
        to,
        from: from ?? null,
        body,
        status: 'queued',
        num_segments: '1',
        num_media: '0',
        direction: 'outbound-api',
        api_version: '2010-04-01',
        price: null,
        price_unit: 'USD',
        error_code: null,
        error_message: null,
        date_created: now,
        date_updated: now,
        date_sent: null,
        uri: `/2010-04-01/Accounts/${FAKE_TWILIO_SID}/Messages/${sid}.json`,
        subresource_uris: { media: `/2010-04-01/Accounts/${FAKE_TWILIO_SID}/Messages/${sid}/Media.json` },
      }),
    };
  }

  override reset(): void {
    super.reset();
    this.sent.length = 0;
  }
}
