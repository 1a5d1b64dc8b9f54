import { AcceptService, SweeperService } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { TemplatedSender, TemplatesModule, TemplatesService } from '../../../src/templates';
import { freshTenantId, newMessages, newTenant } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

/**
 * Validity periods on the accept path (issue 22, item 2): every accepted message gets its
 * `expires_at` from its own validity, its template's, or its type's default; quiet hours never hold
 * a message past it; the sweep ends waiting messages past it `expired`.
 */
describe('validity periods', () => {
  let ctx: MediumContext;
  let accept: AcceptService;

  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [TemplatesModule, PhoneModule, MonitoringModule] });
    accept = ctx.get(AcceptService);
  });
  afterAll(() => ctx.close());

  const row = async (id: string) =>
    (
      (await ctx.ds.query(
        'SELECT status, created_at, scheduled_at, expires_at, error_code, body_ciphertext FROM sms_messages WHERE id = $1',
        [id],
      )) as {
        status: string;
        created_at: Date;
        scheduled_at: Date | null;
        expires_at: Date | null;
        error_code: string | null;
        body_ciphertext: string | null;
      }[]
    )[0];
  const validityOf = async (id: string) => {
    const r = await row(id);
    const from = r.scheduled_at ?? r.created_at;
    return r.expires_at === null ? null : (r.expires_at.getTime() - from.getTime()) / 1000;
  };
  const send = (
    tenant: number,
    extra: Parameters<typeof textSend>[2] = {},
    to: string | string[] = '+12025550123',
  ) => accept.accept(sendContext(principal(tenant)), textSend(to, 'hello', extra));

  it('counts validity_seconds from acceptance, or from the scheduled time', async () => {
    const tenant = freshTenantId();
    const now = (await send(tenant, { validitySeconds: 90 })).result;
    expect(await validityOf(now.messages[0].id)).toBe(90);
    const at = new Date(ctx.clock.now().getTime() + 3_600_000);
    const later = (await send(tenant, { validitySeconds: 120, scheduledAt: at })).result;
    const r = await row(later.messages[0].id);
    expect(r.expires_at).toEqual(new Date(at.getTime() + 120_000));
  });

  it('gives other messages no validity unless set', async () => {
    const { result } = await send(freshTenantId());
    expect((await row(result.messages[0].id)).expires_at).toBeNull();
  });

  it.each([
    [0, 'validity_seconds must be between 1 and 259200 (72 hours)'],
    [259_201, 'validity_seconds must be between 1 and 259200 (72 hours)'],
    [1.5, 'validity_seconds must be a whole number of seconds'],
  ])('refuses validity_seconds %p naming the field, storing nothing', async (v, error) => {
    const tenant = freshTenantId();
    await expect(send(tenant, { validitySeconds: v })).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'validity_seconds', errors: [error] }],
    });
    expect(await ctx.ds.query('SELECT id FROM sms_messages WHERE tenant_id = $1', [tenant])).toEqual([]);
  });

  describe('templates and codes', () => {
    let templates: TemplatesService;
    let sender: TemplatedSender;
    beforeAll(() => {
      templates = ctx.get(TemplatesService);
      sender = ctx.get(TemplatedSender);
    });

    const admin = (tenant: number) => principal(tenant, 'admin-1', ['admin']);
    const templated = (
      tenant: number,
      templateId: string,
      variables: Record<string, unknown>,
      own?: number,
    ) =>
      sender.send(sendContext(principal(tenant)), {
        phoneNumber: '+12025550123',
        templateId,
        variables,
        validitySeconds: own,
      });

    it("gives a templated send its template's validity, and a send's own value wins", async () => {
      const tenant = freshTenantId();
      const saved = await templates.create(
        tenant,
        {
          templateId: 'shift_change',
          name: 'Shift change',
          messageType: 'shift_change',
          transactional: true,
          content: { en: 'Your shift moved to {{time}}' },
          variables: ['time'],
          validitySeconds: 1800,
        },
        admin(tenant),
      );
      expect(saved.validitySeconds).toBe(1800);
      const byTemplate = await templated(tenant, 'shift_change', { time: '9:00' });
      expect(await validityOf(byTemplate.result.messages[0].id)).toBe(1800);
      const own = await templated(tenant, 'shift_change', { time: '10:00' }, 300);
      expect(await validityOf(own.result.messages[0].id)).toBe(300);
      // PATCH without the field keeps it; null clears it.
      await templates.update(tenant, 'shift_change', { name: 'Shift' }, admin(tenant));
      expect((await templates.get(tenant, 'shift_change')).validitySeconds).toBe(1800);
      await templates.update(tenant, 'shift_change', { validitySeconds: null }, admin(tenant));
      const none = await templated(tenant, 'shift_change', { time: '11:00' });
      expect((await row(none.result.messages[0].id)).expires_at).toBeNull();
    });

    it('gives a code its own lifetime by default, and never longer', async () => {
      const tenant = freshTenantId();
      const ttl = ctx.config.get('SMS_CODE_TTL_SECONDS');
      const byDefault = await templated(tenant, '2fa_code', { code: '123456' });
      expect(await validityOf(byDefault.result.messages[0].id)).toBe(ttl);
      const shorter = await templated(tenant, '2fa_code', { code: '234567' }, 60);
      expect(await validityOf(shorter.result.messages[0].id)).toBe(60);
      const longer = await templated(tenant, '2fa_code', { code: '345678' }, ttl * 10);
      expect(await validityOf(longer.result.messages[0].id)).toBe(ttl);
    });
  });

  describe('quiet hours', () => {
    /** A tenant whose quiet hours (UTC) began an hour ago and end in two hours (to the minute). */
    const quietTenant = async () => {
      const now = ctx.clock.now().getTime();
      const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
      return newTenant(ctx.ds, {
        settings: {
          quiet_hours: { start: hhmm(now - 3_600_000), end: hhmm(now + 2 * 3_600_000) },
          timezone: 'UTC',
          allowed_countries: ['US', 'TR'],
          promotional_consent: 'not_required',
        },
      });
    };

    it('refuses a promotional send that quiet hours would hold past its validity', async () => {
      const tenant = await quietTenant();
      await expect(send(tenant, { validitySeconds: 3600 })).rejects.toMatchObject({
        code: 'validation_failed',
        details: [
          {
            field: 'validity_seconds',
            errors: [
              expect.stringMatching(
                /before the recipient's quiet hours end at .*: the message could not be sent in time$/,
              ),
            ],
          },
        ],
      });
      expect(await ctx.ds.query('SELECT id FROM sms_messages WHERE tenant_id = $1', [tenant])).toEqual([]);
    });

    it('defers one whose validity outlasts the window, keeping its end from acceptance', async () => {
      const tenant = await quietTenant();
      const { result } = await send(tenant, { validitySeconds: 3 * 3600 });
      const r = await row(result.messages[0].id);
      expect(r.status).toBe('scheduled');
      expect(r.expires_at!.getTime() - r.created_at.getTime()).toBe(3 * 3_600_000);
      expect(r.scheduled_at!.getTime()).toBeLessThan(r.expires_at!.getTime());
    });

    it('lists a bulk recipient held past its validity, and sends to the others', async () => {
      const tenant = await quietTenant();
      // A US number waits in the tenant's zone (UTC); a Turkish one is three hours ahead, outside it.
      const { result } = await send(tenant, { validitySeconds: 3600 }, ['+12025550123', '+905321234567']);
      expect(result.rejected).toEqual([
        { phone_number: '+12025550123', reason: 'validity_ends_in_quiet_hours' },
      ]);
      expect(result.messages.map((m) => m.phoneNumber)).toEqual(['+905321234567']);
    });

    it('lets transactional messages through at once with their validity', async () => {
      const tenant = await quietTenant();
      const { result } = await send(tenant, { validitySeconds: 60, messageType: 'appointment_reminder' });
      expect(result.status).toBe('queued');
      expect(await validityOf(result.messages[0].id)).toBe(60);
    });
  });

  describe('the sweep', () => {
    it('ends waiting messages past their validity expired, with their event, and leaves the others', async () => {
      const tenant = freshTenantId();
      const [overdue, scheduled, fresh, none, sending] = await Promise.all(
        [1, 2, 3, 4, 5].map(async () => (await newMessages(ctx.ds, { tenant }))[0]),
      );
      const now = ctx.clock.now();
      const ago = new Date(now.getTime() - 1000);
      await ctx.ds.query(
        `UPDATE sms_messages SET expires_at = $2, body_ciphertext = 'sealed' WHERE id = ANY($1::uuid[])`,
        [[overdue, scheduled, sending], ago],
      );
      await ctx.ds.query(`UPDATE sms_messages SET status = 'scheduled', scheduled_at = $2 WHERE id = $1`, [
        scheduled,
        new Date(now.getTime() + 3_600_000),
      ]);
      await ctx.ds.query(`UPDATE sms_messages SET status = 'sending', attempts = 1 WHERE id = $1`, [sending]);
      await ctx.ds.query(`UPDATE sms_messages SET expires_at = $2 WHERE id = $1`, [
        fresh,
        new Date(now.getTime() + 60_000),
      ]);

      expect(await ctx.get(SweeperService).expireOverdue()).toBeGreaterThanOrEqual(2);

      for (const id of [overdue, scheduled])
        expect(await row(id)).toMatchObject({
          status: 'expired',
          error_code: 'validity_expired',
          body_ciphertext: null,
        });
      expect((await row(fresh)).status).toBe('queued');
      expect((await row(none)).status).toBe('queued');
      // A provider may have it: only the worker's outcome moves a sending row.
      expect((await row(sending)).status).toBe('sending');
      const events = await ctx.ds.query(
        `SELECT status, source, payload, at FROM sms_message_events WHERE message_id = $1 AND status = 'expired'`,
        [overdue],
      );
      expect(events).toEqual([
        {
          status: 'expired',
          source: 'sweeper',
          payload: { error_code: 'validity_expired' },
          at: expect.any(Date),
        },
      ]);
      // Once: a second sweep finds nothing more of these.
      await ctx.get(SweeperService).expireOverdue();
      expect(
        await ctx.ds.query(
          `SELECT count(*)::int AS n FROM sms_message_events WHERE message_id = $1 AND status = 'expired'`,
          [overdue],
        ),
      ).toEqual([{ n: 1 }]);
    });
  });
});
