import { DataSource } from 'typeorm';
import { bucketUpperMs, latencyBucket, RollupService } from '../../src/analytics';
import { CodeConversion, ConversionObserver } from '../../src/core';
import { waitForStatus } from '../support/messages';
import { allowCountries } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';

/** What routing would receive: every conversion the app reports, in order. */
const observed: CodeConversion[] = [];

/** Records what the port is told, in place of its binding (routing's RoutingConversions). */
const recording = { converted: (c: CodeConversion) => void observed.push(c) };

/**
 * Code conversion through the public API: codes sent by the verification route, handed to the
 * sandbox provider by the worker, checked; the message's status, the stats' conversion figures per
 * provider, country and day, and the ConversionObserver port.
 */
describe('code conversion', () => {
  let t: TestApp;
  const today = () => new Date().toISOString().slice(0, 10);
  let n = 0;
  const phone = () => `+1202555${String(3000 + ++n).padStart(4, '0')}`;

  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10' },
      override: (b) => b.overrideProvider(ConversionObserver).useValue(recording),
    });
  });
  afterAll(() => t.close());

  const sendCode = async (who: TokenOptions, body: object): Promise<string> => {
    const res = await t.http().post('/api/sms/verification/send').set(t.auth(who)).send(body).expect(202);
    await waitForStatus(t, who, res.body.message_id, 'delivered');
    return res.body.message_id as string;
  };
  const check = async (who: TokenOptions, body: object): Promise<boolean> =>
    (await t.http().post('/api/sms/verification/check').set(t.auth(who)).send(body).expect(200)).body.valid;
  const status = async (who: TokenOptions, id: string) =>
    (await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200)).body;
  const stats = async (who: TokenOptions, query = '') =>
    (await t.http().get(`/api/sms/stats${query}`).set(t.auth(who)).expect(200)).body;

  it("marks the code's message converted on the right check only, once, for its own tenant, and tells routing once", async () => {
    const who = { tenant: freshTenantId(), user: 'svc', roles: ['admin'] };
    const other = { tenant: freshTenantId(), user: 'svc', roles: ['admin'] };
    const p = phone();
    const code = { phone_number: p, purpose: '2fa', code: '246810' };
    const id = await sendCode(who, code);
    const observedBefore = observed.length;

    expect(await check(who, { ...code, code: '135791' })).toBe(false);
    // Another tenant checking the same number, purpose and code: no code of its own, nothing converts.
    expect(await check(other, code)).toBe(false);
    await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(other)).expect(404);
    expect((await status(who, id)).converted_at).toBeNull();
    expect(observed).toHaveLength(observedBefore);

    expect(await check(who, code)).toBe(true);
    const converted = await status(who, id);
    expect(converted).toMatchObject({
      status: 'delivered',
      provider: 'sandbox',
      converted_at: expect.any(String),
    });
    expect(Date.parse(converted.converted_at)).toBeGreaterThanOrEqual(Date.parse(converted.sent_at));
    expect(converted.events.at(-1)).toMatchObject({ status: 'delivered', source: 'verification' });
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items[0]).toMatchObject({ message_id: id, converted_at: converted.converted_at });

    // A second check is refused and moves nothing.
    expect(await check(who, code)).toBe(false);
    expect((await status(who, id)).converted_at).toBe(converted.converted_at);

    const mine = observed.slice(observedBefore);
    expect(mine).toEqual([
      {
        tenantId: who.tenant,
        provider: 'sandbox',
        country: 'US',
        messageType: '2fa_code',
        secondsFromSend: expect.any(Number),
      },
    ]);
    const seconds = (Date.parse(converted.converted_at) - Date.parse(converted.sent_at)) / 1000;
    expect(mine[0].secondsFromSend).toBeCloseTo(seconds, 3);
    const [event] = await t
      .get(DataSource)
      .query(`SELECT payload FROM sms_message_events WHERE message_id = $1 AND source = 'verification'`, [
        id,
      ]);
    expect(event.payload).toEqual({ converted: true, seconds: mine[0].secondsFromSend });
  });

  it('gives the conversion rate and p50/p95 time-to-convert per provider, country and day in /api/sms/stats', async () => {
    const tenant = freshTenantId();
    await allowCountries(t, tenant, ['US', 'TR']);
    const admin = { tenant, user: 'svc', roles: ['admin'] };
    const us1 = phone();
    const us2 = phone();
    const tr = '+905321234567';
    const observedBefore = observed.length;
    await sendCode(admin, { phone_number: us1, purpose: '2fa', code: '111222' });
    await sendCode(admin, { phone_number: us2, purpose: '2fa', code: '333444' });
    await sendCode(admin, { phone_number: tr, purpose: 'password_reset', code: '555666' });
    expect(await check(admin, { phone_number: us1, purpose: '2fa', code: '111222' })).toBe(true);
    expect(await check(admin, { phone_number: tr, purpose: 'password_reset', code: '555666' })).toBe(true);
    // us2's code is never checked: sent, not converted.
    const [usSeconds, trSeconds] = observed.slice(observedBefore).map((c) => c.secondsFromSend);
    const ms = (s: number) => bucketUpperMs(latencyBucket(s * 1000));
    const worse = Math.max(ms(usSeconds), ms(trSeconds));

    const expectConversion = async () => {
      const { conversion } = await stats(admin);
      expect(conversion.message_types).toEqual(['password_reset', '2fa_code']);
      expect(conversion.totals).toEqual({
        sent: 3,
        converted: 2,
        conversion_rate: 0.6667,
        time_to_convert_ms: { p50: Math.min(ms(usSeconds), ms(trSeconds)), p95: worse },
      });
      expect(conversion.by_provider).toEqual([
        {
          key: 'sandbox',
          sent: 3,
          converted: 2,
          conversion_rate: 0.6667,
          time_to_convert_ms: expect.any(Object),
        },
      ]);
      expect(conversion.by_day).toEqual([expect.objectContaining({ key: today(), sent: 3, converted: 2 })]);
      expect(conversion.by_country).toEqual([
        {
          key: 'TR',
          sent: 1,
          converted: 1,
          conversion_rate: 1,
          time_to_convert_ms: { p50: ms(trSeconds), p95: ms(trSeconds) },
        },
        {
          key: 'US',
          sent: 2,
          converted: 1,
          conversion_rate: 0.5,
          time_to_convert_ms: { p50: ms(usSeconds), p95: ms(usSeconds) },
        },
      ]);
      expect(conversion.groups).toEqual([
        expect.objectContaining({ day: today(), provider: 'sandbox', country: 'TR', sent: 1, converted: 1 }),
        expect.objectContaining({ day: today(), provider: 'sandbox', country: 'US', sent: 2, converted: 1 }),
      ]);
    };
    // Exact before the rollup job folds the deltas, and after.
    await expectConversion();
    await t.get(RollupService).fold();
    await expectConversion();

    // The stats' filters: one code type, a provider, another type (no codes: null), a campaign (null).
    expect((await stats(admin, '?message_type=password_reset')).conversion.totals).toMatchObject({
      sent: 1,
      converted: 1,
    });
    expect((await stats(admin, '?provider=twilio')).conversion.totals).toMatchObject({
      sent: 0,
      converted: 0,
    });
    expect((await stats(admin, '?message_type=general_notification')).conversion).toBeNull();
    expect((await stats(admin, '?campaign_id=00000000-0000-4000-8000-000000000000')).conversion).toBeNull();
    // A plain user sees the codes they sent (none), another tenant's admin none of these.
    expect((await stats({ tenant, user: 'someone-else' })).conversion.totals.sent).toBe(0);
    expect((await stats({ tenant: freshTenantId(), roles: ['admin'] })).conversion.totals.sent).toBe(0);
  });
});
