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

interface FakeMessage {
  sid: string;
  /** The account that created it. */
  accountSid: string;
  to: string;
  body: string;
  from?: string;
  statusCallback?: string;
  status: string;
  price: string | null;
  mss: string | null;
  /** When it was created (and, in this fake, sent). */
  date: Date;
  /** WhatsApp (Content API): the approved template and its variables (JSON), as sent. */
  contentSid?: string;
  contentVariables?: string;
  /** MMS: every MediaUrl, in order. */
  mediaUrls: string[];
}

/** A second account's credentials (a tenant's own account in tests): `addAccount` them. */
export const FAKE_TWILIO_SID_2 = 'AC' + '2'.repeat(32);
export const FAKE_TWILIO_TOKEN_2 = 'fake-twilio-auth-token-2222222222';
export const FAKE_TWILIO_SID_3 = 'AC' + '3'.repeat(32);
export const FAKE_TWILIO_TOKEN_3 = 'fake-twilio-auth-token-3333333333';

/**
 * Speaks Twilio's Messages API: POST /2010-04-01/Accounts/{Sid}/Messages.json, form-encoded,
 * HTTP Basic auth; 201 with the message resource, or Twilio's error JSON. GET of the same path
 * lists messages (To, DateSent>= / DateSent<= filters, newest first) in Twilio's paged format.
 */
export class FakeTwilio extends FakeHttpServer {
  /** Messages created successfully (the SMS that "went out"). */
  readonly sent: FakeMessage[] = [];
  /** The clock that dates created messages (tests move it). */
  now: () => Date = () => new Date();
  /** Twilio caps PageSize (at 1000); a small cap here makes tests walk several pages. */
  maxPageSize = 1000;
  /** The accounts it serves, SID → auth token (HTTP Basic auth must match one, and the path's SID). */
  private readonly accounts = new Map<string, string>([[FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN]]);
  /** Accounts that answer this to every request (an outage of one account), until reset(). */
  private readonly failing = new Map<string, Answer>();
  /** Sends to these `To` values (e.g. whatsapp:+1…) answer so, until reset(). */
  private readonly failingTo = new Map<string, Answer>();

  /** Every send to `to` (as Twilio gets it: whatsapp:+… for WhatsApp) is answered so until reset(). */
  failTo(to: string, answer: Answer): this {
    this.failingTo.set(to, answer);
    return this;
  }

  /** Serves another account with its own token (several tenants' own accounts). */
  addAccount(sid: string, token: string): this {
    this.accounts.set(sid, token);
    return this;
  }

  /** Every request of this account is answered so (e.g. a 500) until reset(). */
  failAccount(sid: string, answer: Answer): this {
    this.failing.set(sid, answer);
    return this;
  }

  /** Messages created by one account. */
  sentBy(accountSid: string): FakeMessage[] {
    return this.sent.filter((m) => m.accountSid === accountSid);
  }

  /** What Twilio will answer when this message is fetched (as after a carrier receipt). */
  setStatus(sid: string, status: string, price: string | null = null): void {
    const m = this.sent.find((x) => x.sid === sid);
    if (!m) throw new Error(`no message ${sid}`);
    Object.assign(m, { status, price });
  }

  protected answer(req: RecordedRequest): Answer {
    const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    const colon = auth.indexOf(':');
    const user = auth.slice(0, colon);
    if (colon < 0 || this.accounts.get(user) !== auth.slice(colon + 1))
      return twilioError(401, 20003, 'Authenticate');
    const pathSid = /^\/2010-04-01\/Accounts\/(AC\w+?)(\.json|\/|$)/.exec(req.path)?.[1];
    if (pathSid && pathSid !== user) return twilioError(401, 20003, 'Authenticate');
    const down = this.failing.get(user);
    if (down) return down;
    if (
      req.method === 'GET' &&
      new URL(req.path, 'http://fake').pathname === `/2010-04-01/Accounts/${user}.json`
    )
      return { status: 200, contentType: 'application/json', body: JSON.stringify(this.account(user)) };
    const fetched = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\/(SM\w+)\.json$/.exec(req.path);
    if (req.method === 'GET' && fetched) {
      const m = this.sent.find((x) => x.sid === fetched[2] && x.accountSid === user);
      if (!m)
        return twilioError(404, 20404, `The requested resource /Messages/${fetched[2]}.json was not found`);
      return { status: 200, contentType: 'application/json', body: JSON.stringify(this.resource(m)) };
    }
    const url = new URL(req.path, 'http://fake');
    const match = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\.json$/.exec(url.pathname);
    if (req.method === 'GET' && match) return this.list(url.searchParams, user);
    if (req.method !== 'POST' || !match)
      return twilioError(404, 20404, 'The requested resource was not found');
    if (match[1] !== user) return twilioError(401, 20003, 'Authenticate');
    const {
      To: to,
      Body: body,
      From: from,
      StatusCallback: statusCallback,
      MessagingServiceSid: mss,
      ContentSid: contentSid,
      ContentVariables: contentVariables,
    } = req.form;
    if (!to || !/^(whatsapp:)?\+[1-9]\d{6,14}$/.test(to))
      return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    const refused = this.failingTo.get(to);
    if (refused) return refused;
    // Twilio's rule: a WhatsApp message needs a WhatsApp sender, and Body or ContentSid.
    if (to.startsWith('whatsapp:') && !(from ?? '').startsWith('whatsapp:'))
      return twilioError(400, 63007, 'Twilio could not find a Channel with the specified From address');
    if (!body && !contentSid && !req.formAll.MediaUrl?.length)
      return twilioError(400, 21602, 'Message body is required.');
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const m = {
      sid,
      accountSid: user,
      to,
      body,
      from,
      statusCallback,
      status: 'queued',
      price: null,
      mss: mss ?? null,
      date: this.now(),
      contentSid,
      contentVariables,
      mediaUrls: req.formAll.MediaUrl ?? [],
    };
    this.sent.push(m);
    return { status: 201, contentType: 'application/json', body: JSON.stringify(this.resource(m)) };
  }

  /** Twilio's paged list: `messages` plus page, page_size, start, end and the page URIs. */
  private list(q: URLSearchParams, accountSid: string): Answer {
    const to = q.get('To');
    const after = q.get('DateSent>') ? new Date(q.get('DateSent>') as string) : null;
    const before = q.get('DateSent<') ? new Date(q.get('DateSent<') as string) : null;
    const pageSize = Math.min(Number(q.get('PageSize') ?? 50), this.maxPageSize);
    const page = Number(q.get('Page') ?? 0);
    const all = this.sent
      .filter(
        (m) =>
          m.accountSid === accountSid &&
          (!to || m.to === to) &&
          (!after || m.date >= after) &&
          (!before || m.date <= before),
      )
      .sort((a, b) => b.date.getTime() - a.date.getTime());
    const start = page * pageSize;
    const items = all.slice(start, start + pageSize);
    const pageUri = (n: number) => {
      const p = new URLSearchParams(q);
      p.set('PageSize', String(pageSize));
      p.set('Page', String(n));
      if (n > 0) p.set('PageToken', `PA${n}`);
      else p.delete('PageToken');
      return `/2010-04-01/Accounts/${accountSid}/Messages.json?${p.toString()}`;
    };
    const body = {
      messages: items.map((m) => this.resource(m)),
      page,
      page_size: pageSize,
      start,
      end: start + Math.max(items.length - 1, 0),
      uri: pageUri(page),
      first_page_uri: pageUri(0),
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      next_page_uri: start + pageSize < all.length ? pageUri(page + 1) : null,
    };
    return { status: 200, contentType: 'application/json', body: JSON.stringify(body) };
  }

  /** Twilio's Account resource (what a harmless credentials check reads). */
  private account(sid: string) {
    return {
      sid,
      friendly_name: `fake account ${sid.slice(-4)}`,
      status: 'active',
      type: 'Full',
      owner_account_sid: sid,
      date_created: new Date(0).toUTCString(),
      date_updated: new Date(0).toUTCString(),
      uri: `/2010-04-01/Accounts/${sid}.json`,
      subresource_uris: { messages: `/2010-04-01/Accounts/${sid}/Messages.json` },
    };
  }

  /** Twilio's Message resource. */
  private resource(m: FakeMessage) {
    const now = new Date().toUTCString();
    const date = m.date.toUTCString();
    return {
      sid: m.sid,
      account_sid: m.accountSid,
      messaging_service_sid: m.mss ?? null,
      to: m.to,
      from: m.from ?? null,
      body: m.body,
      status: m.status,
      num_segments: '1',
      num_media: String(m.mediaUrls.length),
      direction: 'outbound-api',
      api_version: '2010-04-01',
      price: m.price,
      price_unit: 'USD',
      error_code: null,
      error_message: null,
      date_created: date,
      date_updated: now,
      date_sent: date,
      uri: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}.json`,
      subresource_uris: { media: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}/Media.json` },
    };
  }

  override reset(): void {
    super.reset();
    this.sent.length = 0;
    this.now = () => new Date();
    this.maxPageSize = 1000;
    this.accounts.clear();
    this.accounts.set(FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN);
    this.failing.clear();
    this.failingTo.clear();
  }
}
