import { LedgerQueries, MessagingModule } from '../../../src/messaging';
import { freshTenantId, markFinal, markSent, newMessages, newTenant } from '../factories';
import { createMediumContext, MediumContext } from '../medium-context';

/**
 * A test-mode message only ever went to the sandbox: it texted nobody, so it must not take the
 * replies of a real recipient, and its scripted failures must not raise a failure-rate alert.
 */
describe('test-mode messages in the ledger reads other features make', () => {
  let ctx: MediumContext;
  let queries: LedgerQueries;

  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [MessagingModule] });
    queries = ctx.get(LedgerQueries);
  });
  afterAll(() => ctx.close());

  const testMode = (ids: string[]) =>
    ctx.ds.query('UPDATE sms_messages SET test_mode = true WHERE id = ANY($1::uuid[])', [ids]);

  it('leaves the replies of a number to the tenant that really texted it', async () => {
    const phone = `+1202555${String(1000 + (freshTenantId() % 9000))}`;
    const real = await newTenant(ctx.ds);
    const tester = await newTenant(ctx.ds);
    const [sent] = await newMessages(ctx.ds, { tenant: real, phone });
    await markSent(ctx.ds, [sent]);
    expect(await queries.lastSender(phone)).toBe(real);

    // Later, and in test mode: the sandbox "sent" it.
    const [fake] = await newMessages(ctx.ds, { tenant: tester, phone });
    await markSent(ctx.ds, [fake], 'sandbox');
    await ctx.ds.query(`UPDATE sms_messages SET sent_at = now() + interval '1 minute' WHERE id = $1`, [fake]);
    await testMode([fake]);
    expect(await queries.lastSender(phone)).toBe(real);

    // The same message not in test mode would take them: the condition is what decides.
    await ctx.ds.query('UPDATE sms_messages SET test_mode = false WHERE id = $1', [fake]);
    expect(await queries.lastSender(phone)).toBe(tester);
  });

  it('counts no test-mode message toward the failure rate', async () => {
    const since = new Date(Date.now() - 60_000);
    const tenant = await newTenant(ctx.ds);
    const ids = await newMessages(ctx.ds, { tenant, n: 10 });
    await markSent(ctx.ds, ids, 'sandbox');
    await markFinal(ctx.ds, ids.slice(0, 6), 'failed', null);
    await markFinal(ctx.ds, ids.slice(6), 'delivered', null);
    const until = new Date(Date.now() + 60_000);
    const mine = async () =>
      (await queries.failureCounts(since, until, 1)).find((c) => c.tenantId === tenant);

    expect(await mine()).toEqual({ tenantId: tenant, failed: 6, finished: 10 });
    await testMode(ids.slice(0, 8));
    expect(await mine()).toEqual({ tenantId: tenant, failed: 0, finished: 2 });
    await testMode(ids);
    expect(await mine()).toBeUndefined();
  });
});
