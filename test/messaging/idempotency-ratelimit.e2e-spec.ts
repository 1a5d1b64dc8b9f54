import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { waitForStatus } from '../support/messages';

describe('idempotency and rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_RATE_LIMIT: '5' },
    });
  });
  afterAll(() => t.close());

  const send = (who: TokenOptions, body: object, key?: string) => {
    const req = t.http().post('/api/sms/send').set(t.auth(who));
    if (key) req.set('Idempotency-Key', key);
    return req.send(body);
  };

  it('replays the first response for the same key and body, sending once', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const body = { phone_number: '+12025550123', message: 'once only' };
    const first = await send(who, body, 'key-1').expect(202);
    const again = await send(who, body, 'key-1').expect(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    await waitForStatus(t, who, first.body.message_id, 'delivered');
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toHaveLength(1);
  });

  it('allows exactly SMS_RATE_LIMIT recipients an hour, then 429 with Retry-After, storing nothing', async () => {
    const who = { tenant: freshTenantId(), user: 11 };
    for (let i = 1; i <= 5; i++) {
      const ok = await send(who, { phone_number: '+12025550123', message: `n${i}` }).expect(202);
      expect(ok.headers['x-ratelimit-limit']).toBe('5');
      expect(ok.headers['x-ratelimit-remaining']).toBe(String(5 - i));
      expect(Number(ok.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    }
    const refused = await send(who, { phone_number: '+12025550123', message: 'n6' }).expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    // details, as on every error, is a list: the rule and its figures.
    expect(refused.body.details).toEqual([
      {
        rule: 'recipient_rate_limit',
        errors: [refused.body.message],
        limit: 5,
        used: 5,
        requested: 1,
        retry_after_seconds: Number(refused.headers['retry-after']),
      },
    ]);
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toHaveLength(5);
  });

  it("counts a user's concurrent sends one by one: exactly the limit pass, each told what is left", async () => {
    const who = { tenant: freshTenantId(), user: 12 };
    // Those that arrive together are counted in one call to Redis, each in arrival order.
    const answers = await Promise.all(
      [2, 1, 1, 1, 1, 1, 1].map((n, i) =>
        t
          .http()
          .post('/api/sms/send-bulk')
          .set(t.auth(who))
          .send({
            phone_numbers: Array.from({ length: n }, (_, j) => `+1202555${String(4000 + 10 * i + j)}`),
            message: `together ${i}`,
          }),
      ),
    );
    const passed = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 429);
    expect(passed.length + refused.length).toBe(answers.length);
    // 5 recipients an hour: which requests pass depends on the order they reach the service, but
    // never more than 5 recipients, and the window is full.
    const taken = passed.reduce((sum, a) => sum + a.body.accepted, 0);
    expect(taken).toBe(5);
    const left = passed.map((a) => Number(a.headers['x-ratelimit-remaining'])).sort();
    // Each passed request was told the room it left: all different, down to 0.
    expect(new Set(left).size).toBe(left.length);
    expect(left[0]).toBe(0);
    for (const r of refused)
      expect(r.body.details).toEqual([expect.objectContaining({ rule: 'recipient_rate_limit', limit: 5 })]);
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toHaveLength(5);
  });
});
