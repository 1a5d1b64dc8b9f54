import { gzipSync } from 'node:zlib';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio } from '../fakes/fake-twilio';
import { FakeSns } from '../fakes/fake-sns';
import { createTestApp, LogCapture, TestApp } from '../support/test-app';

/**
 * Bodies the app cannot read, on every route that has a body parser: the public webhooks (SNS
 * reads text/plain, Twilio a form), the 8 MB recipients upload and the ordinary 1 MB JSON
 * routes. Each answers what `/api/sms/send` answers (413, 415 or 400) in the shared error body,
 * without a token, and writes no error-level log line: a stranger cannot fill the error log.
 */
const SEND = '/api/sms/send';
const SNS = '/api/sms/webhooks/sns';
const TWILIO_STATUS = '/api/sms/webhooks/twilio/status';
const TWILIO_INBOUND = '/api/sms/webhooks/twilio/inbound';
const RECIPIENTS = '/api/sms/recipients';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/** Each route with the media type its parser reads and its parser's limit. */
const ROUTES: { path: string; method: 'post' | 'put'; type: string; limit: number }[] = [
  { path: SEND, method: 'post', type: JSON_TYPE, limit: 1024 * 1024 },
  { path: SNS, method: 'post', type: 'text/plain', limit: 512 * 1024 },
  { path: SNS, method: 'post', type: JSON_TYPE, limit: 1024 * 1024 },
  { path: TWILIO_STATUS, method: 'post', type: FORM, limit: 1024 * 1024 },
  { path: TWILIO_INBOUND, method: 'post', type: FORM, limit: 1024 * 1024 },
  { path: RECIPIENTS, method: 'put', type: JSON_TYPE, limit: 8 * 1024 * 1024 },
];

interface Unreadable {
  name: string;
  /** Content-Type parameters after the media type, e.g. '; charset=foo'. */
  params?: string;
  encoding?: string;
  /** The body; a number is a body of that many bytes. */
  body: string | number;
}

const UNREADABLE: Unreadable[] = [
  { name: 'a body over every limit (9 MB)', body: 9 * 1024 * 1024 },
  { name: 'charset=foo', params: '; charset=foo', body: 'x=1' },
  { name: 'Content-Encoding gzip on a body that is not gzip', encoding: 'gzip', body: 'not gzip at all' },
  { name: 'Content-Encoding zstd', encoding: 'zstd', body: 'not zstd either' },
  { name: 'Content-Encoding br on a body that is not br', encoding: 'br', body: 'not brotli' },
  { name: 'an unknown Content-Encoding', encoding: 'x-snappy', body: 'abc' },
];

const LEVEL_WARN = 40;

describe('unreadable bodies on every parser (issue 20, item 1)', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  const logs = new LogCapture();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      logs,
      env: {
        SMS_PROVIDERS: 'twilio,sns',
        TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
        TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
        TWILIO_PHONE_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: await twilioFake.start(),
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret',
        AWS_REGION: 'us-east-1',
        AWS_SNS_ENDPOINT: await snsFake.start(),
        SNS_TOPIC_ARNS: 'arn:aws:sns:us-east-1:123456789012:sms-events',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });

  const post = (route: (typeof ROUTES)[number], u: Unreadable) => {
    let req = t
      .http()
      [route.method](route.path)
      .set('Content-Type', `${route.type}${u.params ?? ''}`);
    if (u.encoding) req = req.set('Content-Encoding', u.encoding);
    return req.send(typeof u.body === 'number' ? 'x'.repeat(u.body) : u.body);
  };

  /** Error-level (or worse) lines written since `from`. */
  const errorLines = (from: number) =>
    logs.lines
      .slice(from)
      .map((l) => JSON.parse(l) as { level: number; msg?: string })
      .filter((l) => l.level > LEVEL_WARN);

  describe.each(UNREADABLE.map((u) => [u.name, u] as const))('%s', (_name, u) => {
    it.each(ROUTES.filter((r) => r.path !== SEND).map((r) => [`${r.path} (${r.type})`, r] as const))(
      'answers %s as /api/sms/send does, in the shared body, with no error logged',
      async (_route, route) => {
        const expected = await post(ROUTES[0], u);
        expect([400, 413, 415]).toContain(expected.status);
        const from = logs.lines.length;
        const res = await post(route, u);
        expect(res.status).toBe(expected.status);
        expect(res.body).toEqual({
          statusCode: expected.status,
          error: expected.body.error,
          message: expect.any(String),
        });
        expect(errorLines(from)).toEqual([]);
      },
    );
  });

  it.each([
    ['600 KB', 600 * 1024],
    ['2 MB', 2 * 1024 * 1024],
  ])('answers 413 naming the limit to a text/plain SNS body of %s', async (_n, size) => {
    const from = logs.lines.length;
    const res = await post(ROUTES[1], { name: 'big', body: size }).expect(413);
    expect(res.body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'request body exceeds 512 KiB',
    });
    expect(errorLines(from)).toEqual([]);
  });

  it('names each parser its own limit', async () => {
    const over = (route: (typeof ROUTES)[number]) =>
      post(route, { name: 'over', body: route.limit + 1 }).expect(413);
    expect((await over(ROUTES[0])).body.message).toBe('request body exceeds 1 MiB');
    expect((await over(ROUTES[3])).body.message).toBe('request body exceeds 1 MiB');
    expect((await over(ROUTES[5])).body.message).toBe('request body exceeds 8 MiB');
  });

  it('counts the limit after decompression: a small gzip body that inflates past it answers 413', async () => {
    const bomb = gzipSync(Buffer.alloc(9 * 1024 * 1024, 'x')); // about 9 KB on the wire
    const from = logs.lines.length;
    for (const route of ROUTES) {
      const res = await t
        .http()
        [route.method](route.path)
        .set('Content-Type', route.type)
        .set('Content-Encoding', 'gzip')
        .serialize((bytes: string) => bytes) // the gzip bytes as they are, not as JSON or a form
        .send(bomb);
      expect({ path: route.path, type: route.type, status: res.status }).toEqual({
        path: route.path,
        type: route.type,
        status: 413,
      });
    }
    expect(errorLines(from)).toEqual([]);
  });

  it('answers 415 to a media type the route does not read, and to a charset named like a property', async () => {
    const from = logs.lines.length;
    for (const [path, type] of [
      [SEND, 'text/plain'],
      [SEND, 'application/xml'],
      [TWILIO_STATUS, 'text/plain'],
      [SEND, 'application/json; charset=__proto__'],
      [SEND, 'application/json; charset=constructor'],
    ]) {
      const res = await t.http().post(path).set('Content-Type', type).send('{}');
      expect({ path, type, status: res.status, error: res.body.error }).toEqual({
        path,
        type,
        status: 415,
        error: 'Unsupported Media Type',
      });
    }
    expect(errorLines(from)).toEqual([]);
  });

  it('reads a Twilio form sent in ISO-8859-1 as Express did (then checks its signature: 403)', async () => {
    const res = await t
      .http()
      .post(TWILIO_STATUS)
      .set('Content-Type', `${FORM}; charset=iso-8859-1`)
      .send(Buffer.from('MessageSid=SM1&Body=caf\xe9', 'latin1'));
    expect(res.status).toBe(403);
  });

  it('still reads a body just under each limit', async () => {
    // Under its limit each parser reads the body: SNS then refuses it as unsigned (403), the
    // recipients parser finds 1 MiB + 1 byte that is not JSON (400, not 413).
    await post(ROUTES[1], { name: 'under', body: 512 * 1024 - 1 }).expect(403);
    await post(ROUTES[5], { name: 'under', body: 1024 * 1024 + 1 }).expect(400);
  });
});
