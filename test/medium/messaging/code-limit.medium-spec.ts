import { MonitoringModule } from '../../../src/monitoring';
import { OptOutsService } from '../../../src/messaging';
import { PhoneModule } from '../../../src/phone';
import { TemplatedSender } from '../../../src/templates';
import { VerificationModule, VerificationService } from '../../../src/verification';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext } from '../medium-context';

/**
 * The per-number code limit: every path that sends a code message (password_reset, 2fa_code)
 * counts against the same SMS_CODE_SENDS_PER_HOUR (default 5), once.
 */
describe('per-number code limit on every path', () => {
  let ctx: MediumContext;
  let sender: TemplatedSender;
  let codes: VerificationService;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [VerificationModule, PhoneModule, MonitoringModule] });
    sender = ctx.get(TemplatedSender);
    codes = ctx.get(VerificationService);
  });
  afterAll(() => ctx.close());

  let n = 0;
  const next = () => ({
    tenant: freshTenantId(),
    // different ranges, so the per-prefix velocity limit stays out of the way
    phone: `+1${[202, 312, 415, 617, 713, 305][n % 6]}555${String(1000 + ++n)}`,
  });
  /** As POST /api/sms/send-templated does it (with the key and body an Idempotency-Key binds). */
  const templated = (tenant: number, phoneNumber: string, templateId = '2fa_code', key?: string) => {
    const body = { phone_number: phoneNumber, template_id: templateId, variables: { code: '246810' } };
    return sender.send(
      sendContext(principal(tenant), { route: 'POST /api/sms/send-templated', body, idempotencyKey: key }),
      { phoneNumber, templateId, variables: body.variables },
    );
  };
  /** As POST /api/sms/verification/send does it, with a generated code. */
  const code = (tenant: number, phoneNumber: string, purpose: '2fa' | 'password_reset' = '2fa') =>
    codes.send(sendContext(principal(tenant), { route: 'POST /api/sms/verification/send' }), {
      phoneNumber,
      purpose,
    });
  const stored = async (tenant: number) =>
    (await ctx.ds.query('SELECT id FROM sms_messages WHERE tenant_id = $1', [tenant])) as unknown[];
  const refusedBy = (rule: string) => ({
    code: 'rate_limited',
    details: [expect.objectContaining({ rule })],
  });

  it('refuses the 6th send-templated 2fa_code to one number like /verification/send would', async () => {
    const { tenant, phone } = next();
    for (let i = 0; i < 5; i++) await templated(tenant, phone);
    const refused = (await templated(tenant, phone).catch((e: unknown) => e)) as {
      code: string;
      message: string;
      details: unknown;
      headers: Record<string, string>;
    };
    expect(refused.code).toBe('rate_limited');
    expect(refused.message).toContain('verification codes for this number');
    expect(refused.details).toEqual([
      expect.objectContaining({ field: 'phone_number', rule: 'code_number_limit', limit: 5, used: 5 }),
    ]);
    expect(Number(refused.headers['Retry-After'])).toBeGreaterThan(0);
    // the verification path is refused for that number too: one count
    await expect(code(tenant, phone)).rejects.toMatchObject(refusedBy('code_number_limit'));
    expect(await stored(tenant)).toHaveLength(5);
  });

  it('counts password_reset templates, verification codes and templated sends together', async () => {
    const { tenant, phone } = next();
    await code(tenant, phone);
    await code(tenant, phone, 'password_reset');
    await templated(tenant, phone, 'password_reset');
    await templated(tenant, phone);
    await code(tenant, phone);
    await expect(templated(tenant, phone, 'password_reset')).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(code(tenant, phone)).rejects.toMatchObject({ code: 'rate_limited' });
    expect(await stored(tenant)).toHaveLength(5);
  });

  it('counts a verification send once (5 pass, the 6th is refused)', async () => {
    const { tenant, phone } = next();
    for (let i = 0; i < 5; i++) await code(tenant, phone);
    await expect(code(tenant, phone)).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('leaves other message types and other numbers alone', async () => {
    const { tenant, phone } = next();
    for (let i = 0; i < 5; i++) await templated(tenant, phone);
    await expect(templated(tenant, phone)).rejects.toMatchObject({ code: 'rate_limited' });
    await sender.send(sendContext(principal(tenant)), {
      phoneNumber: phone,
      templateId: 'general_notification',
      variables: { message: 'hello' },
    });
    await templated(tenant, next().phone);
    await templated(freshTenantId(), phone);
  });

  it('takes nothing for an idempotent replay or a refused send', async () => {
    const { tenant, phone } = next();
    for (let i = 0; i < 3; i++) await templated(tenant, phone, '2fa_code', 'same-key');
    const optOuts = ctx.get(OptOutsService);
    await optOuts.add(tenant, phone, 'admin:u1', null, { actor: 'u1' });
    await expect(templated(tenant, phone)).rejects.toMatchObject({ code: 'validation_failed' });
    await optOuts.remove(tenant, phone, { actor: 'u1', source: 'admin:u1' });
    for (let i = 0; i < 4; i++) await templated(tenant, phone);
    await expect(templated(tenant, phone)).rejects.toMatchObject({ code: 'rate_limited' });
  });
});
