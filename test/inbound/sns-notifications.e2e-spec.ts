import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Clock } from '../../src/common/clock';
import { StatusJob } from '../../src/jobs/status.job';
import { FakeSns } from '../fakes/fake-sns';
import { FakeClock } from '../support/fake-clock';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, LogCapture, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

const FIXTURES = join(__dirname, '..', 'fixtures', 'sns');
const KEY = readFileSync(join(FIXTURES, 'test-signing.key.pem'), 'utf8');
const CERT = readFileSync(join(FIXTURES, 'test-signing.cert.pem'), 'utf8');
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:sms-events';
const OTHER_TOPIC = 'arn:aws:sns:us-east-1:999999999999:not-ours';
const SNS = '/api/sms/webhooks/sns';

type Envelope = Record<string, string>;

/** Serves the test signing certificate and a SubscribeURL, recording what it was asked. */
class CertServer {
  readonly requests: string[] = [];
  private server?: Server;
  origin = '';

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res) => {
      this.requests.push(req.url ?? '');
      if (req.url?.startsWith('/SimpleNotificationService-test.pem')) {
        res.writeHead(200, { 'Content-Type': 'application/x-pem-file' }).end(CERT);
      } else if (req.url?.startsWith('/confirm-refused')) {
        res.writeHead(403, { 'Content-Type': 'text/xml' }).end('<ErrorResponse/>');
      } else if (req.url?.startsWith('/confirm-reset')) {
        req.socket.destroy();
      } else if (req.url?.startsWith('/confirm')) {
        res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<ConfirmSubscriptionResponse/>');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.origin;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const SIGNED: Record<string, string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
};

/** Signs an envelope as SNS does (canonical "Name\nValue\n" string, RSA-SHA1 or RSA-SHA256). */
function sign(m: Envelope, key = KEY): Envelope {
  const canonical = SIGNED[m.Type]
    .filter((f) => m[f] !== undefined)
    .map((f) => `${f}\n${m[f]}\n`)
    .join('');
  const signer = createSign(m.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  signer.update(canonical, 'utf8');
  return { ...m, Signature: signer.sign(key, 'base64') };
}

describe('SNS notifications: /api/sms/webhooks/sns', () => {
  const certs = new CertServer();
  const snsFake = new FakeSns();
  const clock = new FakeClock();
  const logs = new LogCapture();
  let t: TestApp;
  let certUrl: string;

  beforeAll(async () => {
    const origin = await certs.start();
    certUrl = `${origin}/SimpleNotificationService-test.pem`;
    t = await createTestApp({
      logs,
      env: {
        SMS_PROVIDERS: 'sns',
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret',
        AWS_REGION: 'us-east-1',
        AWS_SNS_ENDPOINT: await snsFake.start(),
        SNS_TOPIC_ARNS: TOPIC,
        SNS_CERT_HOST_ALLOWLIST: origin,
        SMS_RECEIPT_TIMEOUT_HOURS: '72',
      },
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
  });
  afterAll(async () => {
    await t.close();
    await certs.stop();
    await snsFake.stop();
  });

  const notification = (message: unknown, over: Envelope = {}): Envelope =>
    sign({
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: TOPIC,
      Message: typeof message === 'string' ? message : JSON.stringify(message),
      Timestamp: new Date().toISOString(),
      SignatureVersion: '2',
      SigningCertURL: certUrl,
      UnsubscribeURL: `${certs.origin}/unsubscribe`,
      ...over,
    });
  /** Posts as SNS does: JSON in a text/plain body. */
  const post = (m: Envelope) =>
    t
      .http()
      .post(SNS)
      .set('Content-Type', 'text/plain; charset=UTF-8')
      .set('x-amz-sns-message-type', m.Type)
      .send(JSON.stringify(m));

  async function sentSnsMessage(tenant: number) {
    const who = { tenant };
    const phone = `+1206555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: phone, message: 'your class starts at 6' })
      .expect(202);
    const sent = await waitForStatus(t, who, res.body.message_id, 'sent');
    return {
      who,
      phone,
      id: res.body.message_id as string,
      providerMessageId: sent.provider_message_id as string,
    };
  }

  const event = (eventType: string, messageId: string, extra: Record<string, unknown> = {}) => ({
    eventType,
    eventVersion: '1.0',
    eventTimestamp: Date.now(),
    isFinal: true,
    originationPhoneNumber: '+18005550100',
    destinationPhoneNumber: '+12065550100',
    isoCountryCode: 'US',
    messageId,
    messageEncoding: 'GSM',
    messageType: 'TRANSACTIONAL',
    totalMessageParts: 1,
    ...extra,
  });

  it('moves an SNS message to delivered with its price (SignatureVersion 2), once', async () => {
    const m = await sentSnsMessage(freshTenantId());
    const delivered = notification(
      event('TEXT_DELIVERED', m.providerMessageId, { totalMessagePrice: 0.00581, totalCarrierFee: 0.00266 }),
    );
    await post(delivered).expect(204);
    const status = await waitForStatus(t, m.who, m.id, 'delivered');
    expect(status).toMatchObject({ status: 'delivered', cost: 0.00847 });
    await post(delivered).expect(204); // SNS redelivers: no second event
    const again = await t.http().get(`/api/sms/messages/${m.id}/status`).set(t.auth(m.who)).expect(200);
    expect(again.body.events).toHaveLength(status.events.length);
  });

  it('accepts SignatureVersion 1 (SHA1) and maps carrier failures to undelivered', async () => {
    const m = await sentSnsMessage(freshTenantId());
    await post(
      notification(event('TEXT_CARRIER_UNREACHABLE', m.providerMessageId), { SignatureVersion: '1' }),
    ).expect(204);
    const status = await waitForStatus(t, m.who, m.id, 'undelivered');
    expect(status.error_code).toBe('sns:TEXT_CARRIER_UNREACHABLE');
  });

  it.each([
    ['TEXT_BLOCKED', 'undelivered'],
    ['TEXT_TTL_EXPIRED', 'undelivered'],
    ['TEXT_INVALID', 'failed'],
  ])('maps %s to %s', async (word, ours) => {
    const m = await sentSnsMessage(freshTenantId());
    await post(notification(event(word, m.providerMessageId))).expect(204);
    await waitForStatus(t, m.who, m.id, ours);
  });

  it('refuses a forged, unsigned, stale or foreign message with 403 and changes nothing', async () => {
    const m = await sentSnsMessage(freshTenantId());
    const body = event('TEXT_DELIVERED', m.providerMessageId);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const good = notification(body);
    await post({ ...good, Message: JSON.stringify({ ...body, messageId: 'x' }) }).expect(403); // tampered
    await post(sign({ ...good }, other)).expect(403); // signed by another key
    const { Signature: _s, ...unsigned } = good;
    await post(unsigned as Envelope).expect(403);
    await post(notification(body, { Timestamp: new Date(Date.now() - 2 * 3_600_000).toISOString() })).expect(
      403,
    );
    await post(notification(body, { TopicArn: OTHER_TOPIC })).expect(403);
    await t.http().post(SNS).set('Content-Type', 'text/plain').send('not json').expect(403);
    const status = await t.http().get(`/api/sms/messages/${m.id}/status`).set(t.auth(m.who)).expect(200);
    expect(status.body.status).toBe('sent');
  });

  it('never fetches a SigningCertURL that is not on sns.<region>.amazonaws.com', async () => {
    const m = await sentSnsMessage(freshTenantId());
    const before = certs.requests.length;
    for (const url of [
      'https://evil.example.com/SimpleNotificationService-test.pem',
      'https://sns.us-east-1.amazonaws.com.evil.example/x.pem',
      'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
      'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem', // not the topic's region
      `${certs.origin.replace('127.0.0.1', 'localhost')}/SimpleNotificationService-test.pem`,
    ]) {
      const res = await post(
        notification(event('TEXT_DELIVERED', m.providerMessageId), { SigningCertURL: url }),
      );
      expect(res.status).toBe(403);
    }
    expect(certs.requests.length).toBe(before);
  });

  it('confirms a subscription by calling its SubscribeURL, only on a trusted host', async () => {
    const token = randomUUID();
    const confirm = (subscribeUrl: string) =>
      sign({
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        Token: token,
        TopicArn: TOPIC,
        Message: `You have chosen to subscribe to the topic ${TOPIC}.`,
        SubscribeURL: subscribeUrl,
        Timestamp: new Date().toISOString(),
        SignatureVersion: '1',
        SigningCertURL: certUrl,
      });
    await post(confirm(`https://evil.example.com/confirm?Token=${token}`)).expect(403);
    expect(certs.requests.some((r) => r.includes(token))).toBe(false);
    await post(confirm(`${certs.origin}/confirm?Action=ConfirmSubscription&Token=${token}`)).expect(204);
    expect(certs.requests).toContain(`/confirm?Action=ConfirmSubscription&Token=${token}`);
  });

  it('answers 503 (SNS tries again), not 500, when the SubscribeURL fails, and logs no error', async () => {
    const from = logs.lines.length;
    for (const path of ['/confirm-refused', '/confirm-reset']) {
      const token = randomUUID();
      const res = await post(
        sign({
          Type: 'SubscriptionConfirmation',
          MessageId: randomUUID(),
          Token: token,
          TopicArn: TOPIC,
          Message: `You have chosen to subscribe to the topic ${TOPIC}.`,
          SubscribeURL: `${certs.origin}${path}?Action=ConfirmSubscription&Token=${token}`,
          Timestamp: new Date().toISOString(),
          SignatureVersion: '2',
          SigningCertURL: certUrl,
        }),
      );
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.stringContaining('SubscribeURL'),
      });
    }
    // The lines of these two requests (a background job of an earlier test, e.g. a callback
    // delivery's retry, may log meanwhile).
    const lines = logs.lines
      .slice(from)
      .map((l) => JSON.parse(l) as { level: number; msg: string; req?: unknown })
      .filter((l) => l.req !== undefined);
    expect(lines.filter((l) => l.level > 40)).toEqual([]);
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'SNS subscription not confirmed',
      'SNS subscription not confirmed',
    ]);
  });

  it.each<[string, number, Record<string, unknown>]>([
    ['a Message that is not a string', 400, { Message: { eventType: 'TEXT_DELIVERED' } }],
    ['a Type that is a list', 400, { Type: ['Notification'] }],
    ['a Type from the prototype', 400, { Type: 'constructor' }],
    ['a Timestamp that is a number', 400, { Timestamp: 1 }],
    ['a TopicArn that is an object', 400, { TopicArn: { toString: 1 } }],
    ['a Signature that is a list', 403, { Signature: ['x'] }],
    ['a SigningCertURL that is no URL', 403, { SigningCertURL: 'http://[::1' }],
    ['a Message over 256 KB', 400, { Message: 'x'.repeat(300_000) }],
  ])('answers an envelope with %s with %d, never 500', async (_what, status, over) => {
    const m: Record<string, unknown> = { ...notification({ eventType: 'TEXT_DELIVERED' }), ...over };
    const res = await t.http().post(SNS).set('Content-Type', 'text/plain').send(JSON.stringify(m));
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ statusCode: status, message: expect.any(String) });
  });

  it('caches the signing certificate', async () => {
    const m = await sentSnsMessage(freshTenantId());
    await post(notification(event('TEXT_SUCCESSFUL', m.providerMessageId))).expect(204);
    const fetched = certs.requests.filter((r) => r.endsWith('.pem')).length;
    await post(notification(event('TEXT_DELIVERED', m.providerMessageId))).expect(204);
    expect(certs.requests.filter((r) => r.endsWith('.pem')).length).toBe(fetched);
    expect(fetched).toBe(1);
  });

  it('stores a two-way SMS inbound text and acts on its keyword', async () => {
    const m = await sentSnsMessage(freshTenantId());
    const phone = m.phone;
    await post(
      notification({
        originationNumber: phone,
        destinationNumber: '+18005550100',
        messageKeyword: 'KEYWORD_123456789012',
        messageBody: 'İptal',
        inboundMessageId: randomUUID(),
        previousPublishedMessageId: m.providerMessageId,
      }),
    ).expect(204);
    const list = await t
      .http()
      .get('/api/sms/inbound')
      .set(t.auth({ ...m.who, roles: ['admin'] }))
      .expect(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({
        from: phone,
        body: 'İptal',
        provider: 'sns',
        keyword: 'stop',
        language: 'tr',
      }),
    ]);
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(m.who))
      .send({ phone_number: phone, message: 'hi' })
      .expect(400);
  });

  it('ends an SNS message with no receipt after SMS_RECEIPT_TIMEOUT_HOURS as unknown; a late receipt still lands', async () => {
    const m = await sentSnsMessage(freshTenantId());
    await t.get(StatusJob).run();
    expect((await t.http().get(`/api/sms/messages/${m.id}/status`).set(t.auth(m.who))).body.status).toBe(
      'sent',
    );
    clock.advance(73 * 3_600_000);
    try {
      await eventually(async () => {
        await t.get(StatusJob).run();
        const res = await t.http().get(`/api/sms/messages/${m.id}/status`).set(t.auth(m.who));
        return res.body.status === 'unknown' ? res.body : undefined;
      });
    } finally {
      clock.advance(-73 * 3_600_000);
    }
    await post(
      notification(event('TEXT_DELIVERED', m.providerMessageId, { totalMessagePrice: 0.0058 })),
    ).expect(204);
    const late = await waitForStatus(t, m.who, m.id, 'delivered');
    expect(late.cost).toBe(0.0058);
  });
});
