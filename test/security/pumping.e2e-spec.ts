import { Clock } from '../../src/common/clock';
import { FakeClock } from '../support/fake-clock';
import { allowCountries } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/**
 * SMS pumping (issue 8, item 6): destinations outside the tenant's allowed countries, premium-rate
 * and shared-cost numbers, and bursts of codes to one number range are refused, naming the rule,
 * before anything is stored or counted.
 */
describe('SMS pumping defences', () => {
  let t: TestApp;
  const clock = new FakeClock();
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_CODE_SENDS_PER_HOUR: '5' },
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
  });
  afterAll(() => t.close());

  const admin = () => ({ tenant: freshTenantId(), roles: ['admin'] });
  const operator = () => t.auth({ tenant: 1, roles: ['super_admin'] });
  const history = async (who: { tenant: number }) =>
    (
      await t
        .http()
        .get('/api/sms/history?limit=200')
        .set(t.auth({ ...who, roles: ['admin'] }))
        .expect(200)
    ).body.items as { phone_number: string; message_type: string }[];
  const bulk = (who: { tenant: number }, phone_numbers: string[]) =>
    t.http().post('/api/sms/send-bulk').set(t.auth(who)).send({ phone_numbers, message: 'Session moved' });
  const send = (who: { tenant: number }, phone_number: string) =>
    t.http().post('/api/sms/send').set(t.auth(who)).send({ phone_number, message: 'Session moved' });

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
      const res = await bulk(who, ['+12025550123', ...Object.values(foreign)]).expect(202);
      expect(res.body.accepted).toBe(1);
      expect(res.body.rejected).toEqual(
        expect.arrayContaining(
          Object.values(foreign).map((phone_number) => ({ phone_number, reason: 'country_not_allowed' })),
        ),
      );
      expect(res.body.rejected).toHaveLength(Object.values(foreign).length);
      expect((await history(who)).map((m) => m.phone_number)).toEqual(['+12025550123']);
    });

    it('refuses a single send abroad with a 400 naming the rule; nothing stored, no quota used', async () => {
      const who = admin();
      const first = await send(who, '+12025550123').expect(202);
      const remaining = Number(first.headers['x-ratelimit-remaining']);
      const res = await send(who, foreign.TR).expect(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        details: [
          { field: 'phone_number', rule: 'country_not_allowed', errors: [expect.stringContaining('TR')] },
        ],
      });
      const again = await send(who, '+12025550124').expect(202);
      expect(Number(again.headers['x-ratelimit-remaining'])).toBe(remaining - 1);
      expect((await history(who)).map((m) => m.phone_number).sort()).toEqual([
        '+12025550123',
        '+12025550124',
      ]);
    });

    it('is a 400 when no recipient of a bulk remains', async () => {
      const who = admin();
      const res = await bulk(who, [foreign.TR, foreign.DE]).expect(400);
      expect(res.body.details[0].rejected).toEqual([
        { phone_number: foreign.TR, reason: 'country_not_allowed' },
        { phone_number: foreign.DE, reason: 'country_not_allowed' },
      ]);
      expect(await history(who)).toEqual([]);
    });

    it("lets a TR number through once the tenant's allowed_countries are ['US', 'TR']", async () => {
      const who = admin();
      await send(who, foreign.TR).expect(400);
      await allowCountries(t, who.tenant, ['US', 'TR']);
      await send(who, foreign.TR).expect(202);
      await send(who, '+12025550123').expect(202);
      const res = await bulk(who, [foreign.TR, foreign.GB]).expect(202);
      expect(res.body.rejected).toEqual([{ phone_number: foreign.GB, reason: 'country_not_allowed' }]);
    });

    it('opens every country with ["*"]', async () => {
      const who = admin();
      await allowCountries(t, who.tenant, ['*']);
      const res = await bulk(who, ['+12025550123', ...Object.values(foreign), '+80012345678']).expect(202);
      expect(res.body).toMatchObject({ accepted: 8, rejected: [] });
    });

    it('covers verification codes and templated sends too', async () => {
      const who = admin();
      const code = await t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .send({ phone_number: foreign.NG, purpose: '2fa' })
        .expect(400);
      expect(code.body.details[0].rule).toBe('country_not_allowed');
      const templated = await t
        .http()
        .post('/api/sms/send-templated')
        .set(t.auth(who))
        .send({ phone_number: foreign.DE, template_id: 'general_notification', variables: { message: 'hi' } })
        .expect(400);
      expect(templated.body.details[0].rule).toBe('country_not_allowed');
      const scheduled = await t
        .http()
        .post('/api/sms/schedule')
        .set(t.auth(who))
        .send({ phone_number: foreign.FR, message: 'later', scheduled_time: new Date(Date.now() + 3600_000) })
        .expect(400);
      expect(scheduled.body.details[0].rule).toBe('country_not_allowed');
      expect(await history(who)).toEqual([]);
    });

    it('validates allowed_countries: known upper-case ISO codes, or "*" alone', async () => {
      const tenant = freshTenantId();
      for (const bad of [[], ['XX'], ['us'], ['USA'], ['*', 'US'], 'US', [7]]) {
        const res = await t
          .http()
          .post('/api/sms/tenants')
          .set(operator())
          .send({ id: tenant, name: 'x', settings: { allowed_countries: bad } })
          .expect(400);
        expect(JSON.stringify(res.body.details)).toContain('allowed_countries');
      }
      await t
        .http()
        .post('/api/sms/tenants')
        .set(operator())
        .send({ id: tenant, name: 'x', settings: { allowed_countries: ['US', 'TR', 'GB'] } })
        .expect(201);
      const reset = await t
        .http()
        .patch(`/api/sms/tenants/${tenant}`)
        .set(operator())
        .send({ settings: { allowed_countries: null } })
        .expect(200);
      expect(reset.body.settings.allowed_countries).toBeNull();
      await send({ tenant }, foreign.TR).expect(400);
    });
  });

  describe('premium-rate and shared-cost numbers', () => {
    it('refuses +19005550123 as premium_rate, even with "*"', async () => {
      const who = admin();
      await allowCountries(t, who.tenant, ['*']);
      const res = await send(who, '+19005550123').expect(400);
      expect(res.body.details).toEqual([
        { field: 'phone_number', rule: 'premium_rate', errors: [expect.stringContaining('premium-rate')] },
      ]);
      const b = await bulk(who, ['+12025550123', '+19005550123', '+33810123456']).expect(202);
      expect(b.body.accepted).toBe(1);
      expect(b.body.rejected).toEqual([
        { phone_number: '+19005550123', reason: 'premium_rate' },
        { phone_number: '+33810123456', reason: 'shared_cost' },
      ]);
      expect((await history(who)).map((m) => m.phone_number)).toEqual(['+12025550123']);
    });

    it('refuses a premium-rate number for a verification code', async () => {
      const who = admin();
      const res = await t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .send({ phone_number: '+19005550123', purpose: 'password_reset' })
        .expect(400);
      expect(res.body.details[0].rule).toBe('premium_rate');
    });
  });

  describe('code velocity per number range', () => {
    // 21 different numbers of one range (+1202555xxxx): each under the per-number limit.
    const inRange = (i: number) => `+1202555${String(3000 + i)}`;
    const code = (who: { tenant: number }, phone_number: string) =>
      t.http().post('/api/sms/verification/send').set(t.auth(who)).send({ phone_number, purpose: '2fa' });

    it('refuses the 21st code to one prefix within SMS_CODE_PREFIX_WINDOW_MINUTES with a 429 naming the rule', async () => {
      const who = admin();
      for (let i = 0; i < 20; i++) await code(who, inRange(i)).expect(202);
      const res = await code(who, inRange(20)).expect(429);
      expect(res.body.details).toEqual([
        expect.objectContaining({
          field: 'phone_number',
          rule: 'code_prefix_velocity',
          limit: 20,
          used: 20,
          window_minutes: 10,
        }),
      ]);
      expect(res.body.message).toContain('+1202555');
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(600);
      // nothing stored for the refused one
      const stored = await history(who);
      expect(stored).toHaveLength(20);
      expect(stored.map((m) => m.phone_number)).not.toContain(inRange(20));

      // another range, another tenant, and free text to the range are not affected
      await code(who, '+13125550123').expect(202);
      await code(admin(), inRange(20)).expect(202);
      await send(who, inRange(20)).expect(202);

      // templated code sends count against the same range
      const templated = await t
        .http()
        .post('/api/sms/send-templated')
        .set(t.auth(who))
        .send({ phone_number: inRange(21), template_id: '2fa_code', variables: { code: '123456' } })
        .expect(429);
      expect(templated.body.details[0].rule).toBe('code_prefix_velocity');

      // the window rolls
      clock.advance(11 * 60_000);
      await code(who, inRange(20)).expect(202);
    });
  });
});
