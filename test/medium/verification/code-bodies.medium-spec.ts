import { AnalyticsModule } from '../../../src/analytics';
import { SystemMessagesRepository } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { VerificationModule, VerificationService } from '../../../src/verification';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext } from '../medium-context';

/**
 * Invariant 4's end: a code message's encrypted full body is erased once its code is used or its
 * validity (the code's lifetime) is over, even when no provider ever took the message.
 */
describe('code bodies after the code is used or expired', () => {
  let ctx: MediumContext;
  let codes: VerificationService;
  let ledger: SystemMessagesRepository;
  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [VerificationModule, PhoneModule, MonitoringModule, AnalyticsModule],
    });
    codes = ctx.get(VerificationService);
    ledger = ctx.get(SystemMessagesRepository);
  });
  afterAll(() => ctx.close());

  let n = 0;
  const next = () => ({ tenant: freshTenantId(), phone: `+1202555${String(6000 + ++n).padStart(4, '0')}` });
  const send = async (tenant: number, phone: string, code: string) =>
    (
      await codes.send(sendContext(principal(tenant), { route: 'POST /api/sms/verification/send' }), {
        phoneNumber: phone,
        purpose: '2fa',
        code,
      })
    ).accepted.result.messages[0].id;
  const row = async (id: string) =>
    (
      await ctx.ds.query(
        `SELECT status, body, body_ciphertext, expires_at, error_code FROM sms_messages WHERE id = $1`,
        [id],
      )
    )[0] as {
      status: string;
      body: string;
      body_ciphertext: string | null;
      expires_at: Date;
      error_code: string | null;
    };

  it('erases the ciphertext when the code is used while its message still waits, and the message is never sent', async () => {
    const { tenant, phone } = next();
    const id = await send(tenant, phone, '482913');
    const waiting = await row(id);
    expect(waiting.status).toBe('queued');
    expect(waiting.body_ciphertext).not.toBeNull();
    expect(waiting.body).not.toContain('482913');

    expect(await codes.check(tenant, { phoneNumber: phone, purpose: '2fa', code: '482913' })).toBe(true);
    const spent = await row(id);
    expect(spent.body_ciphertext).toBeNull();
    expect(spent.expires_at.getTime()).toBeLessThanOrEqual(ctx.clock.now().getTime());
    // The sweep (or a claim) now ends it instead of handing a used code to a provider.
    expect(await ledger.expireOverdue(ctx.clock.now(), 1000)).toBeGreaterThanOrEqual(1);
    expect(await row(id)).toMatchObject({ status: 'expired', error_code: 'validity_expired' });
  });

  it('leaves a wrong check and a live code message alone', async () => {
    const { tenant, phone } = next();
    const id = await send(tenant, phone, '551177');
    const before = await row(id);
    expect(await codes.check(tenant, { phoneNumber: phone, purpose: '2fa', code: '000000' })).toBe(false);
    expect(await row(id)).toEqual(before);
    await ledger.eraseSpentCodeBodies(1000);
    expect((await row(id)).body_ciphertext).not.toBeNull();
  });

  it('the retention backstop erases the ciphertext of an unknown code message past its validity', async () => {
    const { tenant, phone } = next();
    const id = await send(tenant, phone, '730119');
    // The attempt's outcome is unknown (the resolver keeps the ciphertext to resend it), and the
    // code's lifetime then ends.
    await ctx.ds.query(
      `UPDATE sms_messages SET status = 'unknown', expires_at = now() - interval '1 minute' WHERE id = $1`,
      [id],
    );
    expect(await ledger.eraseSpentCodeBodies(1000)).toBeGreaterThanOrEqual(1);
    expect(await row(id)).toMatchObject({ status: 'unknown', body_ciphertext: null });
  });

  it('a receipt for an unknown code message erases its ciphertext', async () => {
    const { tenant, phone } = next();
    const id = await send(tenant, phone, '661204');
    await ctx.ds.query(`UPDATE sms_messages SET status = 'unknown' WHERE id = $1`, [id]);
    await ledger.transaction((m) =>
      ledger.writeReceipts(
        m,
        [{ id, status: 'delivered', errorCode: null, cost: '0.0079', currency: 'USD' }],
        [],
      ),
    );
    expect(await row(id)).toMatchObject({ status: 'delivered', body_ciphertext: null });
  });
});
