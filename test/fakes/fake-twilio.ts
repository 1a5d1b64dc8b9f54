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
  readonly sent: {
    sid: string;
    to: string;
    body: string;
    from?: string;
    statusCallback?: string;
    status: string;
    price: string | null;
    mss: string | null;
    /** When Twilio created (and, in this fake, sent) it. */
    at?: Date;
  }[] = [];

  /** What Twilio will answer when this message is fetched (as after a carrier receipt). */
  setStatus(sid: string, status: string, price: string | null = null): void {
    const m = this.sent.find((x) => x.sid === sid);
    if (!m) throw new Error(`no message ${sid}`);
    Object.assign(m, { status, price });
  }

  protected answer(req: RecordedRequest): Answer {
    const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    if (auth !== `${FAKE_TWILIO_SID}:${FAKE_TWILIO_TOKEN}`) return twilioError(401, 20003, 'Authenticate');
    const fetched = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\/(SM\w+)\.json$/.exec(req.path);
    if (req.method === 'GET' && fetched) {
      const m = this.sent.find((x) => x.sid === fetched[2]);
      if (!m)
        return twilioError(404, 20404, `The requested resource /Messages/${fetched[2]}.json was not found`);
      return { status: 200, contentType: 'application/json', body: JSON.stringify(this.resource(m)) };
    }
    const url = new URL(req.path, 'http://fake');
    if (req.method === 'GET' && /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\.json$/.test(url.pathname)) {
      return this.list(url.searchParams);
    }
    const match = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\.json$/.exec(req.path);
    if (req.method !== 'POST' || !match)
      return twilioError(404, 20404, 'The requested resource was not found');
    if (match[1] !== FAKE_TWILIO_SID) return twilioError(401, 20003, 'Authenticate');
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
    const m = {
      sid,
      to,
      body,
      from,
      statusCallback,
      status: 'queued',
      price: null,
      mss: mss ?? null,
      at: new Date(),
    };
    this.sent.push(m);
    return { status: 201, contentType: 'application/json', body: JSON.stringify(this.resource(m)) };
  }

  /** Twilio's message list (one page): To, DateSent> and DateSent< filters, newest first. */
  private list(q: URLSearchParams): Answer {
    const to = q.get('To');
    const after = q.get('DateSent>');
    const before = q.get('DateSent<');
    const items = this.sent
      .filter((m) => !to || m.to === to)
      .filter((m) => !after || (m.at?.getTime() ?? 0) >= Date.parse(after))
      .filter((m) => !before || (m.at?.getTime() ?? 0) < Date.parse(before) + 1000)
      .reverse()
      .map((m) => this.resource(m));
    const uri = `/2010-04-01/Accounts/${FAKE_TWILIO_SID}/Messages.json`;
    return {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({
        messages: items,
        end: Math.max(0, items.length - 1),
        first_page_uri: uri,
        next_page_uri: null,
        page: 0,
        page_size: Number(q.get('PageSize') ?? 50),
        previous_page_uri: null,
        start: 0,
        uri,
      }),
    };
  }

  /** Twilio's Message resource. */
  private resource(m: {
    sid: string;
    to: string;
    body: string;
    from?: string;
    status: string;
    price: string | null;
    mss?: string | null;
    at?: Date;
  }) {
    const now = new Date().toUTCString();
    const sentAt = m.at?.toUTCString() ?? null;
    return {
      sid: m.sid,
      account_sid: FAKE_TWILIO_SID,
      messaging_service_sid: m.mss ?? null,
      to: m.to,
      from: m.from ?? null,
      body: m.body,
      status: m.status,
      num_segments: '1',
      num_media: '0',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      price: m.price,
      price_unit: 'USD',
      error_code: null,
      error_message: null,
      date_created: sentAt ?? now,
      date_updated: now,
      date_sent: sentAt,
      uri: `/2010-04-01/Accounts/${FAKE_TWILIO_SID}/Messages/${m.sid}.json`,
      subresource_uris: { media: `/2010-04-01/Accounts/${FAKE_TWILIO_SID}/Messages/${m.sid}/Media.json` },
    };
  }

  override reset(): void {
    super.reset();
    this.sent.length = 0;
  }
}
