import { RateLimiterService } from '../../src/messaging/policies/rate-limiter.service';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { waitForStatus } from '../support/messages';

describe('idempotency and rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_RATE_LIMIT: '5', SMS_ADMIN_RATE_LIMIT: '8' },
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

  it('sends once when the same key arrives concurrently', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const body = { phone_number: '+12025550123', message: 'race' };
    const answers = await Promise.all([1, 2, 3, 4].map(() => send(who, body, 'key-race')));
    // A duplicate still in flight is a 409 (retry later); one after it completes is a replay.
    const accepted = answers.filter((a) => a.status === 202);
    expect(answers.every((a) => a.status === 202 || a.status === 409)).toBe(true);
    expect(new Set(accepted.map((a) => a.body.message_id)).size).toBe(1);
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toHaveLength(1);
  });

  it('answers 422 to the same key with another body', async () => {
    const who = { tenant: freshTenantId() };
    await send(who, { phone_number: '+12025550123', message: 'a' }, 'key-2').expect(202);
    const res = await send(who, { phone_number: '+12025550123', message: 'b' }, 'key-2').expect(422);
    expect(res.body.message).toContain('key-2');
  });

  it('scopes keys per tenant', async () => {
    const body = { phone_number: '+12025550123', message: 'same' };
    const a = await send({ tenant: freshTenantId() }, body, 'shared').expect(202);
    const b = await send({ tenant: freshTenantId() }, body, 'shared').expect(202);
    expect(a.body.message_id).not.toBe(b.body.message_id);
  });

  it('scopes keys per user: another user of the tenant with the same key sends their own message', async () => {
    const tenant = freshTenantId();
    const body = { phone_number: '+12025550123', message: 'mine' };
    const a = await send({ tenant, user: 'alice' }, body, 'guessable').expect(202);
    const b = await send({ tenant, user: 'bob' }, body, 'guessable').expect(202);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.body.message_id).not.toBe(a.body.message_id);
    const again = await send({ tenant, user: 'alice' }, body, 'guessable').expect(202);
    expect(again.body.message_id).toBe(a.body.message_id);
  });

  it('frees a key whose request failed after claiming it (429), so a retry sends', async () => {
    const who = { tenant: freshTenantId(), user: 'retrier' };
    for (let i = 1; i <= 5; i++)
      await send(who, { phone_number: '+12025550123', message: `fill ${i}` }).expect(202);
    const body = { phone_number: '+12025550123', message: 'later' };
    await send(who, body, 'after-429').expect(429);
    await t.get(RateLimiterService).refund(who.tenant, 'retrier', 5, new Date());
    const ok = await send(who, body, 'after-429').expect(202);
    expect(ok.headers['idempotent-replayed']).toBeUndefined();
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
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toHaveLength(5);
  });

  it('counts a bulk by its recipients', async () => {
    const who = { tenant: freshTenantId(), user: 12 };
    const six = Array.from({ length: 6 }, (_, i) => `+1202555010${i}`);
    await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({ phone_numbers: six, message: 'x' })
      .expect(429);
    await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({ phone_numbers: six.slice(0, 5), message: 'x' })
      .expect(202);
  });

  it('gives admins SMS_ADMIN_RATE_LIMIT and honours a tenant override', async () => {
    const tenant = freshTenantId();
    const eight = Array.from({ length: 8 }, (_, i) => `+1202555020${i}`);
    const admin = { tenant, user: 13, roles: ['admin'] };
    const ok = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(admin))
      .send({ phone_numbers: eight, message: 'x' })
      .expect(202);
    expect(ok.headers['x-ratelimit-limit']).toBe('8');
    await t
      .http()
      .patch(`/api/sms/tenants/${tenant}`)
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({ settings: { rate_limit: 2 } })
      .expect(200);
    const user = { tenant, user: 14 };
    await send(user, { phone_number: '+12025550123', message: '1' }).expect(202);
    const second = await send(user, { phone_number: '+12025550123', message: '2' }).expect(202);
    expect(second.headers['x-ratelimit-limit']).toBe('2');
    await send(user, { phone_number: '+12025550123', message: '3' }).expect(429);
  });

  it('rolls the window: recipients counted an hour ago no longer count', async () => {
    const limiter = t.get(RateLimiterService);
    const tenant = freshTenantId();
    const t0 = new Date('2026-11-24T10:00:30Z');
    await limiter.consume(tenant, 'roller', 5, 5, t0);
    await expect(
      limiter.consume(tenant, 'roller', 1, 5, new Date(t0.getTime() + 59 * 60_000)),
    ).rejects.toMatchObject({
      code: 'rate_limited',
    });
    const later = await limiter.consume(tenant, 'roller', 1, 5, new Date(t0.getTime() + 61 * 60_000));
    expect(later).toMatchObject({ limit: 5, remaining: 4 });
  });
});
