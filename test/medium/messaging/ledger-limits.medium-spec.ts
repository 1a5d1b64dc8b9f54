import { RateLimitExceededError } from '../../../src/common/errors';
import { uuidv7 } from '../../../src/core/uuid7';
import { AcceptService, MessagingModule } from '../../../src/messaging';
import { LedgerLimits, LedgerSend } from '../../../src/messaging/policies/ledger-limits';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

/**
 * The code limits counted from the ledger (the stand-in while a Redis Cluster slot has no master):
 * the same windows as Redis, each counting its own rows of its own span, and the same refusals.
 */
describe('the code limits, counted from the ledger', () => {
  let ctx: MediumContext;
  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [MessagingModule, PhoneModule, MonitoringModule],
      env: {
        SMS_RATE_LIMIT: '100000',
        SMS_ADMIN_RATE_LIMIT: '100000',
        SMS_CODE_SENDS_PER_HOUR: '2',
        SMS_CODE_PREFIX_LIMIT: '3',
        SMS_CODE_PREFIX_WINDOW_MINUTES: '10',
      },
    });
  });
  afterAll(() => ctx.close());

  /** Sends through the accept path as it runs with Redis (these are the ledger's rows). */
  const send = (
    tenant: number,
    phone: string,
    messageType: '2fa_code' | 'general_notification',
    user = 'u1',
  ) =>
    ctx
      .get(AcceptService)
      .accept(sendContext(principal(tenant, user, ['admin'])), textSend(phone, 'x', { messageType }));

  /** LedgerLimits.take in a transaction of its own (rolled back: it counts, the test inserts nothing). */
  const take = async (s: Partial<LedgerSend> & { tenantId: number; phones: string[] }) => {
    const ledger = ctx.get(LedgerLimits);
    try {
      await ctx.ds.transaction(async (m) => {
        const r = await ledger.take(m, {
          userId: 'u1',
          userLimit: 100,
          now: new Date(),
          recipients: s.phones.map((phoneNumber) => ({ phoneNumber })),
          ...s,
        });
        throw Object.assign(new Error('rollback'), { taken: r });
      });
    } catch (e) {
      if (e instanceof RateLimitExceededError) return { refused: e };
      const r = (e as { taken?: Awaited<ReturnType<LedgerLimits['take']>> }).taken;
      if (!r) throw e;
      return { taken: r };
    }
    throw new Error('unreachable');
  };
  const detail = (e?: RateLimitExceededError) => (e?.details as Record<string, unknown>[] | undefined)?.[0];

  /** A row as another path wrote it, `minutesAgo` back (its id of the same time). */
  const rowAgo = async (
    tenant: number,
    phone: string,
    type: string,
    minutesAgo: number,
    campaign = false,
  ) => {
    const at = new Date(Date.now() - minutesAgo * 60_000);
    await ctx.ds.query(
      `INSERT INTO sms_messages (id, tenant_id, created_by, phone_number, body, message_type, status, segments,
         encoding, currency, created_at, campaign_id)
       VALUES ($1, $2, 'u1', $3, 'x', $4, 'sent', 1, 'GSM-7', 'USD', $5, $6)`,
      [uuidv7(at), tenant, phone, type, at, campaign ? uuidv7(at) : null],
    );
  };

  it("a number's codes of the last hour: the third refused as Redis refuses it, other numbers and tenants apart", async () => {
    const tenant = freshTenantId();
    await send(tenant, '+12025550111', '2fa_code');
    await send(tenant, '+12025550111', '2fa_code');
    // Another number (of another range): one code counts; each of these would make it two.
    await send(tenant, '+12025570112', '2fa_code');
    await send(tenant, '+12025570112', 'general_notification'); // not a code
    await rowAgo(tenant, '+12025570112', '2fa_code', 61); // out of the hour
    await send(freshTenantId(), '+12025570112', '2fa_code'); // another tenant's
    const { refused } = await take({ tenantId: tenant, phones: ['+12025550111'] });
    expect(refused?.code).toBe('rate_limited');
    expect(detail(refused)).toMatchObject({
      rule: 'code_number_limit',
      limit: 2,
      used: 2,
      field: 'phone_number',
    });
    expect(Number(refused?.headers?.['Retry-After'])).toBeGreaterThan(3000);
    const { taken } = await take({ tenantId: tenant, phones: ['+12025570112'] });
    expect(taken?.taken.map((t) => t.count)).toEqual([1, 1, 1]); // the user, the number, its range
  });

  it("a range's codes of its window: every number of the range counts, another range does not", async () => {
    const tenant = freshTenantId();
    await send(tenant, '+12025551201', '2fa_code');
    await send(tenant, '+12025551202', '2fa_code');
    await rowAgo(tenant, '+12025551203', 'password_reset', 5);
    await rowAgo(tenant, '+12025551204', '2fa_code', 11); // out of the 10 minutes
    const { refused } = await take({ tenantId: tenant, phones: ['+12025551209'] });
    expect(detail(refused)).toMatchObject({ rule: 'code_prefix_velocity', limit: 3, used: 3 });
    expect((await take({ tenantId: tenant, phones: ['+12025561209'] })).taken).toBeDefined();
  });

  it("the user's messages of the hour but campaigns', against the user's limit", async () => {
    const tenant = freshTenantId();
    await send(tenant, '+12025550131', 'general_notification');
    await send(tenant, '+12025550132', 'general_notification');
    await send(tenant, '+12025550133', 'general_notification', 'u2'); // another user
    await rowAgo(tenant, '+12025550134', 'general_notification', 1, true); // a campaign's
    await rowAgo(tenant, '+12025550135', 'general_notification', 61); // out of the hour
    const { refused } = await take({ tenantId: tenant, userLimit: 2, phones: ['+12025550139'] });
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.details).toEqual([
      expect.objectContaining({ rule: 'recipient_rate_limit', limit: 2, used: 2, requested: 1 }),
    ]);
    const { taken } = await take({ tenantId: tenant, userLimit: 3, phones: ['+12025550139'] });
    expect(taken?.state).toMatchObject({ limit: 3, remaining: 0 });
  });
});
