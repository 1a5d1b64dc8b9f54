import { AcceptService } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { TenantsService } from '../../../src/tenancy';
import { TemplatedSender } from '../../../src/templates';
import { VerificationModule, VerificationService } from '../../../src/verification';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

/**
 * SMS pumping: destinations outside the tenant's allowed countries, premium-rate and shared-cost
 * numbers, and bursts of codes to one number range are refused, naming the rule, before anything
 * is stored or counted.
 */
describe('SMS pumping defences on the accept path', () => {
  let ctx: MediumContext;
  let accept: AcceptService;
  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [VerificationModule, PhoneModule, MonitoringModule],
      env: { SMS_CODE_SENDS_PER_HOUR: '5' },
    });
    accept = ctx.get(AcceptService);
  });
  afterAll(() => ctx.close());

  const admin = () => principal(freshTenantId(), 'admin-1', ['admin']);
  type Who = ReturnType<typeof admin>;
  const history = async (who: Who) =>
    (await ctx.ds.query('SELECT phone_number FROM sms_messages WHERE tenant_id = $1 ORDER BY created_at', [
      who.tenantId,
    ])) as { phone_number: string }[];
  const bulk = (who: Who, phoneNumbers: string[]) =>
    accept.accept(sendContext(who), textSend(phoneNumbers, 'Session moved'));
  const send = (who: Who, phoneNumber: string) =>
    accept.accept(sendContext(who), textSend(phoneNumber, 'Session moved'));
  /**
   * As a platform operator sets it: the tenant is created (as on first use) or updated. No
   * promotional consent asked: these tests are about destinations (consent: docs/privacy.md).
   */
  const allowCountries = async (who: Who, countries: string[]) => {
    const tenants = ctx.get(TenantsService);
    await tenants.ensure(who.tenantId);
    await tenants.update(who.tenantId, {
      settings: { allowed_countries: countries, promotional_consent: 'not_required' },
    });
  };
  const refusal = (rule: string) => ({
    code: 'validation_failed',
    details: [expect.objectContaining({ rule })],
  });

  // One valid number in each of several countries.
  const foreign = {
    TR: '+905321234567',
    GB: '+442071838750',
    DE: '+4915123456789',
    FR: '+33612345678',
    NG: '+2348031234567',
    CA: '+14165550123',
  };

  describe('destination country allow-list', () => {
    it('by default sends only to DEFAULT_COUNTRY_CODE: a bulk lists the other countries as country_not_allowed', async () => {
      const who = admin();
      const res = await bulk(who, ['+12025550123', ...Object.values(foreign)]);
      expect(res.result.messages).toHaveLength(1);
      expect(res.result.rejected).toEqual(
        expect.arrayContaining(
          Object.values(foreign).map((phone_number) => ({ phone_number, reason: 'country_not_allowed' })),
        ),
      );
      expect(res.result.rejected).toHaveLength(Object.values(foreign).length);
      expect((await history(who)).map((m) => m.phone_number)).toEqual(['+12025550123']);
    });

    it('refuses a single send abroad naming the rule; nothing stored, no quota used', async () => {
      const who = admin();
      const first = await send(who, '+12025550123');
      const remaining = first.rateLimit!.remaining;
      await expect(send(who, foreign.TR)).rejects.toMatchObject({
        code: 'validation_failed',
        details: [
          { field: 'phone_number', rule: 'country_not_allowed', errors: [expect.stringContaining('TR')] },
        ],
      });
      const again = await send(who, '+12025550124');
      expect(again.rateLimit!.remaining).toBe(remaining - 1);
      expect((await history(who)).map((m) => m.phone_number).sort()).toEqual([
        '+12025550123',
        '+12025550124',
      ]);
    });

    it('refuses a bulk when no recipient remains', async () => {
      const who = admin();
      await expect(bulk(who, [foreign.TR, foreign.DE])).rejects.toMatchObject({
        code: 'validation_failed',
        details: [
          expect.objectContaining({
            rejected: [
              { phone_number: foreign.TR, reason: 'country_not_allowed' },
              { phone_number: foreign.DE, reason: 'country_not_allowed' },
            ],
          }),
        ],
      });
      expect(await history(who)).toEqual([]);
    });

    it("lets a TR number through once the tenant's allowed_countries are ['US', 'TR']", async () => {
      const who = admin();
      await expect(send(who, foreign.TR)).rejects.toMatchObject(refusal('country_not_allowed'));
      await allowCountries(who, ['US', 'TR']);
      await send(who, foreign.TR);
      await send(who, '+12025550123');
      const res = await bulk(who, [foreign.TR, foreign.GB]);
      expect(res.result.rejected).toEqual([{ phone_number: foreign.GB, reason: 'country_not_allowed' }]);
    });

    it('opens every country with ["*"]', async () => {
      const who = admin();
      await allowCountries(who, ['*']);
      const res = await bulk(who, ['+12025550123', ...Object.values(foreign), '+80012345678']);
      expect(res.result.messages).toHaveLength(8);
      expect(res.result.rejected).toEqual([]);
    });

    it('covers verification codes, templated sends and scheduled sends too', async () => {
      const who = admin();
      await expect(
        ctx.get(VerificationService).send(sendContext(who), { phoneNumber: foreign.NG, purpose: '2fa' }),
      ).rejects.toMatchObject(refusal('country_not_allowed'));
      await expect(
        ctx.get(TemplatedSender).send(sendContext(who), {
          phoneNumber: foreign.DE,
          templateId: 'general_notification',
          variables: { message: 'hi' },
        }),
      ).rejects.toMatchObject(refusal('country_not_allowed'));
      await expect(
        accept.accept(
          sendContext(who),
          textSend(foreign.FR, 'later', { scheduledAt: new Date(ctx.clock.now().getTime() + 3600_000) }),
        ),
      ).rejects.toMatchObject(refusal('country_not_allowed'));
      expect(await history(who)).toEqual([]);
    });
  });

  describe('premium-rate and shared-cost numbers', () => {
    it('refuses +19005550123 as premium_rate, even with "*"', async () => {
      const who = admin();
      await allowCountries(who, ['*']);
      await expect(send(who, '+19005550123')).rejects.toMatchObject({
        code: 'validation_failed',
        details: [
          { field: 'phone_number', rule: 'premium_rate', errors: [expect.stringContaining('premium-rate')] },
        ],
      });
      const b = await bulk(who, ['+12025550123', '+19005550123', '+33810123456']);
      expect(b.result.messages).toHaveLength(1);
      expect(b.result.rejected).toEqual([
        { phone_number: '+19005550123', reason: 'premium_rate' },
        { phone_number: '+33810123456', reason: 'shared_cost' },
      ]);
      expect((await history(who)).map((m) => m.phone_number)).toEqual(['+12025550123']);
    });

    it('refuses a premium-rate number for a verification code', async () => {
      const who = admin();
      await expect(
        ctx
          .get(VerificationService)
          .send(sendContext(who), { phoneNumber: '+19005550123', purpose: 'password_reset' }),
      ).rejects.toMatchObject(refusal('premium_rate'));
    });
  });

  describe('code velocity per number range', () => {
    // 21 different numbers of one range (+1202555xxxx): each under the per-number limit.
    const inRange = (i: number) => `+1202555${String(3000 + i)}`;
    const code = (who: Who, phoneNumber: string) =>
      ctx.get(VerificationService).send(sendContext(who), { phoneNumber, purpose: '2fa' });

    it('refuses the 21st code to one prefix within SMS_CODE_PREFIX_WINDOW_MINUTES, naming the rule', async () => {
      const who = admin();
      for (let i = 0; i < 20; i++) await code(who, inRange(i));
      const refused = (await code(who, inRange(20)).catch((e: unknown) => e)) as {
        code: string;
        message: string;
        details: unknown;
        headers: Record<string, string>;
      };
      expect(refused.code).toBe('rate_limited');
      expect(refused.details).toEqual([
        expect.objectContaining({
          field: 'phone_number',
          rule: 'code_prefix_velocity',
          limit: 20,
          used: 20,
          window_minutes: 10,
        }),
      ]);
      expect(refused.message).toContain('+1202555');
      const retryAfter = Number(refused.headers['Retry-After']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(600);
      // nothing stored for the refused one
      const stored = await history(who);
      expect(stored).toHaveLength(20);
      expect(stored.map((m) => m.phone_number)).not.toContain(inRange(20));

      // another range, another tenant, and free text to the range are not affected
      await code(who, '+13125550123');
      await code(admin(), inRange(20));
      await send(who, inRange(20));

      // templated code sends count against the same range
      await expect(
        ctx.get(TemplatedSender).send(sendContext(who), {
          phoneNumber: inRange(21),
          templateId: '2fa_code',
          variables: { code: '123456' },
        }),
      ).rejects.toMatchObject({
        code: 'rate_limited',
        details: [expect.objectContaining({ rule: 'code_prefix_velocity' })],
      });

      // the window rolls
      ctx.clock.advance(11 * 60_000);
      await code(who, inRange(20));
    });
  });
});
