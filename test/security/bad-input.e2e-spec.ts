import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';

/**
 * Issue 8, items 1, 9 and 10 at the boundary: text PostgreSQL cannot store (NUL, lone
 * surrogates), prototype keys, absurd dates and cursors, and undecodable bodies. Each answers a
 * 400 (or 415) in the shared error body naming the field, never a 5xx, and nothing is stored.
 */
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Case {
  name: string;
  method: Method;
  path: string;
  /** An object is sent as JSON; a string is sent raw as application/json. */
  body?: object | string;
  field: string;
}

const PHONE = '+12025550123';
const FUTURE = () => new Date(Date.now() + 3 * 86400_000).toISOString();
const send = (extra: object) => ({ phone_number: PHONE, message: 'hello', ...extra });
const template = (extra: object) => ({
  template_id: 'sec_tpl',
  name: 'Security',
  content_en: 'Hi {{name}}',
  message_type: 'general_notification',
  variables: ['name'],
  ...extra,
});
const appointment = (extra: object) => ({
  phone_number: PHONE,
  starts_at: FUTURE(),
  trainer_name: 'John Doe',
  location: 'Room A',
  ...extra,
});
const cursor = (s: string) => Buffer.from(s).toString('base64url');
const UUID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
/** A raw JSON body with metadata nested `n` deep (JSON.stringify itself overflows first). */
const deep = (n: number): string =>
  `{"phone_number":"${PHONE}","message":"hi","metadata":${'{"a":'.repeat(n)}"x"${'}'.repeat(n)}}`;

const CASES: Case[] = [
  // NUL and lone surrogates in every kind of string (item 1)
  {
    name: 'NUL in message',
    method: 'post',
    path: '/api/sms/send',
    body: send({ message: 'x\u0000' }),
    field: 'message',
  },
  {
    name: 'lone surrogate in message',
    method: 'post',
    path: '/api/sms/send',
    body: send({ message: 'x\ud800' }),
    field: 'message',
  },
  {
    name: 'NUL in user_id',
    method: 'post',
    path: '/api/sms/send',
    body: send({ user_id: 'u\u0000' }),
    field: 'user_id',
  },
  {
    name: 'NUL in a metadata value',
    method: 'post',
    path: '/api/sms/send',
    body: send({ metadata: { a: 'x\u0000' } }),
    field: 'metadata.a',
  },
  {
    name: 'lone surrogate deep in metadata',
    method: 'post',
    path: '/api/sms/send',
    body: send({ metadata: { a: { b: ['ok', '\udc00'] } } }),
    field: 'metadata.a.b[1]',
  },
  {
    name: 'NUL in a metadata key',
    method: 'post',
    path: '/api/sms/send',
    body: send({ metadata: { 'k\u0000': 1 } }),
    field: 'metadata',
  },
  {
    name: 'lone surrogate in a metadata key',
    method: 'post',
    path: '/api/sms/send',
    body: send({ metadata: { '\ud83d': 1 } }),
    field: 'metadata',
  },
  {
    name: 'NUL in one bulk number',
    method: 'post',
    path: '/api/sms/send-bulk',
    body: { phone_numbers: [PHONE, '+1202555\u00000124'], message: 'hi' },
    field: 'phone_numbers[1]',
  },
  {
    name: 'NUL in a scheduled message',
    method: 'post',
    path: '/api/sms/schedule',
    body: send({ message: '\u0000', scheduled_time: FUTURE() }),
    field: 'message',
  },
  {
    name: 'NUL in template content_en',
    method: 'post',
    path: '/api/sms/templates',
    body: template({ content_en: 'Hi\u0000' }),
    field: 'content_en',
  },
  {
    name: 'NUL in template name',
    method: 'post',
    path: '/api/sms/templates',
    body: template({ name: 'N\u0000' }),
    field: 'name',
  },
  {
    name: 'NUL in a templated send variable (trainer_name)',
    method: 'post',
    path: '/api/sms/send-templated',
    body: {
      phone_number: PHONE,
      template_id: 'appointment_reminder',
      variables: { trainer_name: 'J\u0000' },
    },
    field: 'variables.trainer_name',
  },
  {
    name: 'NUL in appointment trainer_name',
    method: 'put',
    path: '/api/sms/appointments/sec-appt',
    body: appointment({ trainer_name: 'J\u0000' }),
    field: 'trainer_name',
  },
  {
    name: 'NUL in opt-out reason',
    method: 'post',
    path: '/api/sms/opt-outs',
    body: { phone_number: PHONE, reason: 'r\u0000' },
    field: 'reason',
  },
  {
    name: 'NUL in validate-phone',
    method: 'post',
    path: '/api/sms/validate-phone',
    body: { phone_number: '+1\u0000' },
    field: 'phone_number',
  },
  {
    name: 'NUL in history user_id filter',
    method: 'get',
    path: '/api/sms/history?user_id=a%00b',
    field: 'user_id',
  },
  {
    name: 'NUL in history phone_number filter',
    method: 'get',
    path: '/api/sms/history?phone_number=%2B1%00',
    field: 'phone_number',
  },
  { name: 'NUL in a template id', method: 'get', path: '/api/sms/templates/x%00y', field: 'templateId' },
  {
    name: 'NUL in a template id (update)',
    method: 'put',
    path: '/api/sms/templates/x%00y',
    body: template({}),
    field: 'templateId',
  },
  {
    name: 'NUL in an appointment id',
    method: 'put',
    path: '/api/sms/appointments/a%00',
    body: appointment({}),
    field: 'appointmentId',
  },
  {
    name: 'NUL in an appointment id (get)',
    method: 'get',
    path: '/api/sms/appointments/a%00',
    field: 'appointmentId',
  },
  { name: 'NUL in a message id', method: 'get', path: '/api/sms/messages/%00/status', field: 'id' },
  {
    name: 'NUL in an opt-out number',
    method: 'delete',
    path: '/api/sms/opt-outs/%2B1%00',
    field: 'phoneNumber',
  },
  // __proto__ and constructor keys (item 10)
  {
    name: '__proto__ at the top of the body',
    method: 'post',
    path: '/api/sms/send',
    body: `{"phone_number":"${PHONE}","message":"hi","__proto__":{"admin":true}}`,
    field: '__proto__',
  },
  {
    name: 'constructor in metadata',
    method: 'post',
    path: '/api/sms/send',
    body: `{"phone_number":"${PHONE}","message":"hi","metadata":{"constructor":{"prototype":{"x":1}}}}`,
    field: 'metadata.constructor',
  },
  {
    name: '__proto__ nested in metadata',
    method: 'post',
    path: '/api/sms/send',
    body: `{"phone_number":"${PHONE}","message":"hi","metadata":{"a":{"__proto__":{"x":1}}}}`,
    field: 'metadata.a.__proto__',
  },
  // absurd dates and cursors (item 9)
  {
    name: 'year -271821 in history from',
    method: 'get',
    path: '/api/sms/history?from=-271821-04-20T00:00:00Z',
    field: 'from',
  },
  {
    name: 'year 275760 in history to',
    method: 'get',
    path: '/api/sms/history?to=%2B275760-09-13T00:00:00Z',
    field: 'to',
  },
  {
    name: 'year 1900 in history from',
    method: 'get',
    path: '/api/sms/history?from=1900-01-01',
    field: 'from',
  },
  {
    name: 'year -271821 in scheduled_time',
    method: 'post',
    path: '/api/sms/schedule',
    body: send({ scheduled_time: '-271821-04-20T00:00:00Z' }),
    field: 'scheduled_time',
  },
  {
    name: 'year 275760 in appointment starts_at',
    method: 'put',
    path: '/api/sms/appointments/sec-appt',
    body: appointment({ starts_at: '+275760-09-13T00:00:00Z' }),
    field: 'starts_at',
  },
  {
    name: 'a cursor with a non-UUID id',
    method: 'get',
    path: `/api/sms/history?cursor=${cursor('2026-01-01T00:00:00.000Z|not-a-uuid')}`,
    field: 'cursor',
  },
  {
    name: 'a cursor in year -271821',
    method: 'get',
    path: `/api/sms/history?cursor=${cursor(`-271821-04-20T00:00:00.000Z|${UUID}`)}`,
    field: 'cursor',
  },
  // absurd nesting
  {
    name: 'metadata nested 5,000 deep',
    method: 'post',
    path: '/api/sms/send',
    body: deep(5000),
    field: 'metadata',
  },
];

describe('bad input at the boundary (issue 8)', () => {
  let t: TestApp;
  const tenant = freshTenantId();
  const admin: TokenOptions = { tenant, user: 'sec-admin', roles: ['admin'] };

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it.each(CASES.map((c) => [c.name, c] as const))('answers 400 naming the field: %s', async (_n, c) => {
    let req = t.http()[c.method](c.path).set(t.auth(admin));
    if (typeof c.body === 'string') req = req.set('Content-Type', 'application/json').send(c.body);
    else if (c.body) req = req.send(c.body);
    const res = await req;
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.any(String),
      details: expect.arrayContaining([{ field: expect.any(String), errors: expect.any(Array) }]),
    });
    const fields = (res.body.details as { field: string }[]).map((d) => d.field);
    expect(fields.some((f) => f === c.field || f.startsWith(`${c.field}.`))).toBe(true);
  });

  it.each([
    ['gzip', 400],
    ['br', 400],
    ['deflate', 400],
    ['zstd', 415],
  ])('answers a %s body that does not decompress with %d, without a token', async (encoding, status) => {
    const res = await t
      .http()
      .post('/api/sms/send')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', encoding)
      .send('definitely not compressed');
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ statusCode: status, message: expect.any(String) });
  });

  it('answers 400 to a NUL in a public webhook form field', async () => {
    const res = await t
      .http()
      .post('/api/sms/webhooks/twilio/status')
      .type('form')
      .send('MessageSid=SM%00&MessageStatus=delivered');
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ field: 'MessageSid', errors: [expect.stringContaining('NUL')] }]);
  });

  it('never answers 5xx to an invalid UTF-8 path or query', async () => {
    for (const path of [
      '/api/sms/templates/%ED%A0%80',
      '/api/sms/history?user_id=%ED%A0%80',
      '/api/sms/templates/%E0%A4%A',
    ]) {
      const res = await t.http().get(path).set(t.auth(admin));
      expect(res.status).toBeLessThan(500);
    }
  });

  it('stored nothing for any refused request', async () => {
    const history = await t.http().get('/api/sms/history').set(t.auth(admin)).expect(200);
    expect(history.body.items).toEqual([]);
    const templates = await t
      .http()
      .get('/api/sms/templates?include_inactive=true')
      .set(t.auth(admin))
      .expect(200);
    expect(templates.body.map((x: { template_id: string }) => x.template_id)).not.toContain('sec_tpl');
    const optOuts = await t.http().get('/api/sms/opt-outs').set(t.auth(admin)).expect(200);
    expect(JSON.stringify(optOuts.body)).not.toContain(PHONE);
    await t.http().get('/api/sms/appointments/sec-appt').set(t.auth(admin)).expect(404);
  });

  it("keeps another tenant's concurrent sends whole while refusing bad text", async () => {
    const other: TokenOptions = { tenant: freshTenantId(), user: 'good', roles: ['admin'] };
    const attacker: TokenOptions = { tenant: freshTenantId(), user: 'bad' };
    const good = Array.from({ length: 15 }, (_, i) =>
      t
        .http()
        .post('/api/sms/send')
        .set(t.auth(other))
        .send(send({ message: `fine ${i}` })),
    );
    const bad = Array.from({ length: 15 }, () =>
      t
        .http()
        .post('/api/sms/send')
        .set(t.auth(attacker))
        .send(send({ metadata: { k: '\u0000' } })),
    );
    const [goodRes, badRes] = await Promise.all([Promise.all(good), Promise.all(bad)]);
    expect(goodRes.map((r) => r.status)).toEqual(Array(15).fill(202));
    expect(badRes.map((r) => r.status)).toEqual(Array(15).fill(400));
  });

  it('still accepts well-formed text: emoji (surrogate pairs), Turkish, and ordinary keys', async () => {
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: freshTenantId(), roles: ['admin'] }))
      .send(send({ message: 'Merhaba 👋 ğüşiöç', metadata: { 'kéy 🎉': ['ok 😀'], prototype: 1 } }))
      .expect(202);
  });
});
