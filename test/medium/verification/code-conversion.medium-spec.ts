import { AnalyticsModule, AnalyticsService, bucketUpperMs, latencyBucket } from '../../../src/analytics';
import { CodeConversion, ConversionObserver } from '../../../src/core';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { VerificationModule, VerificationService } from '../../../src/verification';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext } from '../medium-context';

/** The port's binding for this suite: a jest mock each test arranges. */
const converted = jest.fn<void | Promise<void>, [CodeConversion]>();

/**
 * Conversion's edges, on the service with a clock the test moves (no worker runs here: a send the
 * test needs is written as the worker's outcome statement writes it).
 */
describe('VerificationService: a right check converts the message that carried the code', () => {
  let ctx: MediumContext;
  let codes: VerificationService;
  let analytics: AnalyticsService;
  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [VerificationModule, PhoneModule, MonitoringModule, AnalyticsModule],
      // In place of its binding (routing's RoutingConversions).
      override: (b) => b.overrideProvider(ConversionObserver).useValue({ converted }),
    });
    codes = ctx.get(VerificationService);
    analytics = ctx.get(AnalyticsService);
  });
  afterAll(() => ctx.close());
  beforeEach(() => converted.mockReset());

  const phone = (i: number) => `+1202555${String(4000 + i).padStart(4, '0')}`;
  let n = 0;
  const next = () => ({ tenant: freshTenantId(), phone: phone(++n) });

  const send = async (tenant: number, p: string, code: string) =>
    (
      await codes.send(sendContext(principal(tenant), { route: 'POST /api/sms/verification/send' }), {
        phoneNumber: p,
        purpose: '2fa',
        code,
      })
    ).accepted.result.messages[0].id;
  const check = (tenant: number, p: string, code: string) =>
    codes.check(tenant, { phoneNumber: p, purpose: '2fa', code });
  /** As the worker's outcome statement records a provider's acceptance. */
  const markSent = (id: string, provider = 'twilio') =>
    ctx.ds.query(`UPDATE sms_messages SET status = 'sent', provider = $2, sent_at = $3 WHERE id = $1`, [
      id,
      provider,
      ctx.clock.now(),
    ]);
  const row = async (id: string) =>
    (
      await ctx.ds.query(
        `SELECT converted_at, country, (SELECT payload FROM sms_message_events e
                 WHERE e.message_id = m.id AND e.source = 'verification') AS event
           FROM sms_messages m WHERE id = $1`,
        [id],
      )
    )[0] as { converted_at: Date | null; country: string | null; event: { seconds: number } | null };
  const conversion = async (tenant: number) => {
    const { start, end } = analytics.period();
    const scope = analytics.scopeOf(principal(tenant, 'boss', ['admin']), undefined);
    return (await analytics.stats(scope, { start, end, groupBy: null })).conversion;
  };

  it('stores the destination country on the message at accept', async () => {
    const { tenant, phone: p } = next();
    expect((await row(await send(tenant, p, '101010'))).country).toBe('US');
  });

  it('times a conversion from sent_at, tells the observer once, and counts the send and the conversion once', async () => {
    const { tenant, phone: p } = next();
    const id = await send(tenant, p, '246810');
    await markSent(id);
    ctx.clock.advance(7_000);
    expect(await check(tenant, p, '246810')).toBe(true);
    expect(converted).toHaveBeenCalledTimes(1);
    const c = converted.mock.calls[0][0];
    expect(c).toEqual({
      tenantId: tenant,
      provider: 'twilio',
      country: 'US',
      messageType: '2fa_code',
      secondsFromSend: expect.any(Number),
    });
    expect(c.secondsFromSend).toBeGreaterThanOrEqual(7);
    expect(c.secondsFromSend).toBeLessThan(9);
    const marked = await row(id);
    expect(marked.event).toEqual({ converted: true, seconds: c.secondsFromSend });

    // A receipt after the conversion moves the status, not the counts.
    await ctx.ds.query(`UPDATE sms_messages SET status = 'delivered', delivered_at = $2 WHERE id = $1`, [
      id,
      ctx.clock.now(),
    ]);
    expect(await conversion(tenant)).toMatchObject({
      totals: {
        sent: 1,
        converted: 1,
        conversion_rate: 1,
        time_to_convert_ms: { p50: bucketUpperMs(latencyBucket(c.secondsFromSend * 1000)) },
      },
      groups: [expect.objectContaining({ provider: 'twilio', country: 'US' })],
    });
  });

  it('times a code checked before any provider took it from created_at, counts it sent, and tells nobody', async () => {
    const { tenant, phone: p } = next();
    const id = await send(tenant, p, '135790');
    ctx.clock.advance(40_000);
    expect(await check(tenant, p, '135790')).toBe(true);
    const marked = await row(id);
    expect(marked.converted_at).not.toBeNull();
    expect(marked.event?.seconds).toBeGreaterThanOrEqual(40);
    // No provider to score: routing is not told.
    expect(converted).not.toHaveBeenCalled();
    // Handed over afterwards: still one send and one conversion, timed as before, now under the
    // provider that took it.
    await markSent(id);
    expect(await conversion(tenant)).toMatchObject({
      totals: {
        sent: 1,
        converted: 1,
        time_to_convert_ms: { p50: bucketUpperMs(latencyBucket(40_000)) },
      },
      by_provider: [expect.objectContaining({ key: 'twilio', sent: 1, converted: 1 })],
    });
  });

  it('counts a code sent and never checked, or checked wrong, as sent only', async () => {
    const { tenant, phone: p } = next();
    const id = await send(tenant, p, '112233');
    await markSent(id);
    expect(await check(tenant, p, '999999')).toBe(false);
    expect((await row(id)).converted_at).toBeNull();
    expect((await conversion(tenant))?.totals).toEqual({
      sent: 1,
      converted: 0,
      conversion_rate: 0,
      time_to_convert_ms: { p50: null, p95: null },
    });
  });

  it('answers a right check valid when the observer throws or rejects, and keeps the conversion', async () => {
    for (const fail of [
      () => {
        throw new Error('routing is down');
      },
      () => Promise.reject(new Error('routing is slow')),
    ]) {
      const { tenant, phone: p } = next();
      const id = await send(tenant, p, '445566');
      await markSent(id);
      converted.mockImplementationOnce(fail);
      expect(await check(tenant, p, '445566')).toBe(true);
      expect((await row(id)).converted_at).not.toBeNull();
    }
    expect(converted).toHaveBeenCalledTimes(2);
  });

  it('converts a message once when the right code is checked several times at once', async () => {
    const { tenant, phone: p } = next();
    const id = await send(tenant, p, '778899');
    await markSent(id);
    const results = await Promise.all(Array.from({ length: 4 }, () => check(tenant, p, '778899')));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(converted).toHaveBeenCalledTimes(1);
    expect((await conversion(tenant))?.totals).toMatchObject({ sent: 1, converted: 1 });
  });
});
