import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { VerificationModule, VerificationService } from '../../../src/verification';
import type { CodeSend } from '../../../src/verification/verification.service';
import { freshTenantId, newTemplate } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext } from '../medium-context';

describe('VerificationService: codes sent, stored hashed, checked once', () => {
  let ctx: MediumContext;
  let codes: VerificationService;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [VerificationModule, PhoneModule, MonitoringModule] });
    codes = ctx.get(VerificationService);
  });
  afterAll(() => ctx.close());

  const phone = (i: number) => `+1202555${String(2000 + i).padStart(4, '0')}`;
  let n = 0;
  const next = () => ({ tenant: freshTenantId(), phone: phone(++n) });

  const send = (tenant: number, input: CodeSend) =>
    codes.send(sendContext(principal(tenant), { route: 'POST /api/sms/verification/send' }), input);
  const check = (
    tenant: number,
    input: { phoneNumber: string; purpose: CodeSend['purpose']; code: string },
  ) => codes.check(tenant, input);
  const storedMessage = async (id: string) =>
    (
      await ctx.ds.query('SELECT template_id, message_type, body FROM sms_messages WHERE id = $1', [id])
    )[0] as { template_id: string; message_type: string; body: string };

  it('generates a 6-digit code with the password_reset template when none is given', async () => {
    const { tenant, phone: p } = next();
    const sent = await send(tenant, { phoneNumber: p, purpose: 'password_reset' });
    expect(await storedMessage(sent.accepted.result.messages[0].id)).toEqual({
      template_id: 'password_reset',
      message_type: 'password_reset',
      body: 'Your password reset code is ******. Do not share it with anyone.',
    });
  });

  it('rejects a wrong code and burns the code after SMS_CODE_MAX_ATTEMPTS wrong tries', async () => {
    const { tenant, phone: p } = next();
    await send(tenant, { phoneNumber: p, purpose: '2fa', code: '111111' });
    for (let i = 0; i < 5; i++)
      expect(await check(tenant, { phoneNumber: p, purpose: '2fa', code: '999999' })).toBe(false);
    expect(await check(tenant, { phoneNumber: p, purpose: '2fa', code: '111111' })).toBe(false);
  });

  it('never lets concurrent wrong checks try more than SMS_CODE_MAX_ATTEMPTS times', async () => {
    const { tenant, phone: p } = next();
    await send(tenant, { phoneNumber: p, purpose: '2fa', code: '121212' });
    const wrong = await Promise.all(
      Array.from({ length: 12 }, () => check(tenant, { phoneNumber: p, purpose: '2fa', code: '000000' })),
    );
    expect(wrong.every((valid) => valid === false)).toBe(true);
    const [row] = await ctx.ds.query('SELECT attempts FROM sms_verification_codes WHERE tenant_id = $1', [
      tenant,
    ]);
    expect(row.attempts).toBe(5);
    expect(await check(tenant, { phoneNumber: p, purpose: '2fa', code: '121212' })).toBe(false);
  });

  it('accepts a right code once even when it is checked several times at once', async () => {
    const { tenant, phone: p } = next();
    await send(tenant, { phoneNumber: p, purpose: '2fa', code: '343434' });
    const results = await Promise.all(
      Array.from({ length: 4 }, () => check(tenant, { phoneNumber: p, purpose: '2fa', code: '343434' })),
    );
    expect(results.filter((valid) => valid === true)).toHaveLength(1);
  });

  it("redacts the code in a tenant's own wording of the 2FA template", async () => {
    const { tenant, phone: p } = next();
    await newTemplate(ctx.ds, {
      tenant,
      templateId: '2fa_code',
      name: 'ACME 2FA',
      content: { en: 'ACME login: {{ code }}' },
      messageType: '2fa_code',
      variables: ['code'],
    });
    const sent = await send(tenant, { phoneNumber: p, purpose: '2fa', code: '565656' });
    expect(await storedMessage(sent.accepted.result.messages[0].id)).toMatchObject({
      template_id: '2fa_code',
      body: 'ACME login: ******',
    });
  });

  it('expires a code after SMS_CODE_TTL_SECONDS', async () => {
    const { tenant, phone: p } = next();
    await send(tenant, { phoneNumber: p, purpose: 'password_reset', code: '222222' });
    ctx.clock.advance(601_000);
    expect(await check(tenant, { phoneNumber: p, purpose: 'password_reset', code: '222222' })).toBe(false);
  });

  it('replaces the live code with a new one', async () => {
    const { tenant, phone: p } = next();
    await send(tenant, { phoneNumber: p, purpose: '2fa', code: '333333' });
    await send(tenant, { phoneNumber: p, purpose: '2fa', code: '444444' });
    expect(await check(tenant, { phoneNumber: p, purpose: '2fa', code: '333333' })).toBe(false);
    expect(await check(tenant, { phoneNumber: p, purpose: '2fa', code: '444444' })).toBe(true);
  });

  it('keeps purposes and tenants apart', async () => {
    const { tenant, phone: p } = next();
    await send(tenant, { phoneNumber: p, purpose: '2fa', code: '555555' });
    expect(await check(tenant, { phoneNumber: p, purpose: 'password_reset', code: '555555' })).toBe(false);
    expect(await check(freshTenantId(), { phoneNumber: p, purpose: '2fa', code: '555555' })).toBe(false);
    expect(await check(tenant, { phoneNumber: p, purpose: '2fa', code: '555555' })).toBe(true);
  });
});
