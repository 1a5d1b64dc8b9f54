import { Principal } from '../../../src/auth/principal';
import { AcceptService, MessagingModule } from '../../../src/messaging';
import { RateLimiterService } from '../../../src/messaging/policies/rate-limiter.service';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { TenantsService } from '../../../src/tenancy';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

describe('idempotency keys and rate limits on the accept path', () => {
  let ctx: MediumContext;
  let accept: AcceptService;
  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [MessagingModule, PhoneModule, MonitoringModule],
      env: { SMS_RATE_LIMIT: '5', SMS_ADMIN_RATE_LIMIT: '8' },
    });
    accept = ctx.get(AcceptService);
  });
  afterAll(() => ctx.close());

  /** As POST /api/sms/send does it: the key is bound to the route and the request body. */
  const send = (who: Principal, body: { phone_number: string; message: string }, key?: string) =>
    accept.accept(
      sendContext(who, { route: 'POST /api/sms/send', body, idempotencyKey: key }),
      textSend(body.phone_number, body.message),
    );
  const stored = async (tenant: number) =>
    (await ctx.ds.query('SELECT id FROM sms_messages WHERE tenant_id = $1', [tenant])) as unknown[];

  it('sends once when the same key arrives concurrently', async () => {
    const who = principal(freshTenantId(), 'admin-1', ['admin']);
    const body = { phone_number: '+12025550123', message: 'race' };
    const answers = await Promise.allSettled([1, 2, 3, 4].map(() => send(who, body, 'key-race')));
    // A duplicate still in flight is a conflict (retry later); one after it completes is a replay.
    for (const a of answers)
      if (a.status === 'rejected')
        expect(a.reason).toMatchObject({ code: 'conflict', headers: { 'Retry-After': '1' } });
    const accepted = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    expect(new Set(accepted.map((a) => a.result.messages[0].id)).size).toBe(1);
    expect(await stored(who.tenantId)).toHaveLength(1);
  });

  it('refuses the same key with another body, naming the key', async () => {
    const who = principal(freshTenantId());
    await send(who, { phone_number: '+12025550123', message: 'a' }, 'key-2');
    await expect(send(who, { phone_number: '+12025550123', message: 'b' }, 'key-2')).rejects.toMatchObject({
      code: 'idempotency_mismatch',
      message: expect.stringContaining('key-2'),
    });
  });

  it('scopes keys per tenant', async () => {
    const body = { phone_number: '+12025550123', message: 'same' };
    const a = await send(principal(freshTenantId()), body, 'shared');
    const b = await send(principal(freshTenantId()), body, 'shared');
    expect(a.result.messages[0].id).not.toBe(b.result.messages[0].id);
  });

  it('scopes keys per user: another user of the tenant with the same key sends their own message', async () => {
    const tenant = freshTenantId();
    const body = { phone_number: '+12025550123', message: 'mine' };
    const a = await send(principal(tenant, 'alice'), body, 'guessable');
    const b = await send(principal(tenant, 'bob'), body, 'guessable');
    expect(b.replayed).toBe(false);
    expect(b.result.messages[0].id).not.toBe(a.result.messages[0].id);
    const again = await send(principal(tenant, 'alice'), body, 'guessable');
    expect(again.result.messages[0].id).toBe(a.result.messages[0].id);
  });

  it('frees a key whose request failed after claiming it (rate limited), so a retry sends', async () => {
    const who = principal(freshTenantId(), 'retrier');
    for (let i = 1; i <= 5; i++) await send(who, { phone_number: '+12025550123', message: `fill ${i}` });
    const body = { phone_number: '+12025550123', message: 'later' };
    await expect(send(who, body, 'after-429')).rejects.toMatchObject({ code: 'rate_limited' });
    await ctx.get(RateLimiterService).refund(who.tenantId, 'retrier', 5, ctx.clock.now());
    const ok = await send(who, body, 'after-429');
    expect(ok.replayed).toBe(false);
  });

  it('counts a bulk by its recipients', async () => {
    const who = principal(freshTenantId(), '12');
    const six = Array.from({ length: 6 }, (_, i) => `+1202555010${i}`);
    await expect(accept.accept(sendContext(who), textSend(six, 'x'))).rejects.toMatchObject({
      code: 'rate_limited',
    });
    await accept.accept(sendContext(who), textSend(six.slice(0, 5), 'x'));
  });

  it('gives admins SMS_ADMIN_RATE_LIMIT and honours a tenant override', async () => {
    const tenant = freshTenantId();
    const eight = Array.from({ length: 8 }, (_, i) => `+1202555020${i}`);
    const ok = await accept.accept(sendContext(principal(tenant, '13', ['admin'])), textSend(eight, 'x'));
    expect(ok.rateLimit?.limit).toBe(8);
    await ctx.get(TenantsService).update(tenant, { settings: { rate_limit: 2 } });
    const user = principal(tenant, '14');
    await send(user, { phone_number: '+12025550123', message: '1' });
    const second = await send(user, { phone_number: '+12025550123', message: '2' });
    expect(second.rateLimit?.limit).toBe(2);
    await expect(send(user, { phone_number: '+12025550123', message: '3' })).rejects.toMatchObject({
      code: 'rate_limited',
    });
  });

  it('rolls the window: recipients counted an hour ago no longer count', async () => {
    const limiter = ctx.get(RateLimiterService);
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
