import { AcceptService, MessagingModule, OPT_OUT_SOURCE, OptOutsService } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { freshTenantId, newOptOut, newTenant } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

describe('OptOutsService', () => {
  let ctx: MediumContext;
  let optOuts: OptOutsService;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [MessagingModule, PhoneModule, MonitoringModule] });
    optOuts = ctx.get(OptOutsService);
  });
  afterAll(() => ctx.close());

  it('answers each tenant from its own list when concurrent lookups share one query', async () => {
    const [a, b] = [freshTenantId(), freshTenantId()];
    await newOptOut(ctx.ds, { tenant: a, phone: '+12025550101' });
    await newOptOut(ctx.ds, { tenant: b, phone: '+12025550102' });
    const phones = ['+12025550101', '+12025550102', '+12025550103'];
    const [forA, forB, forNobody] = await Promise.all([
      optOuts.filter(a, phones),
      optOuts.filter(b, phones),
      optOuts.filter(freshTenantId(), phones),
    ]);
    expect([...forA]).toEqual(['+12025550101']);
    expect([...forB]).toEqual(['+12025550102']);
    expect(forNobody.size).toBe(0);
  });

  it('lists opted-out numbers of a bulk as rejected and sends to the rest', async () => {
    const who = principal(await newTenant(ctx.ds), 'admin-1', ['admin']);
    await optOuts.add(who.tenantId, '+12025550123', 'admin:admin-1', 'asked by phone', { actor: 'admin-1' });
    const accept = ctx.get(AcceptService);
    const res = await accept.accept(sendContext(who), textSend(['+12025550123', '+12025550124'], 'news'));
    expect(res.result.messages).toHaveLength(1);
    expect(res.result.rejected).toEqual([{ phone_number: '+12025550123', reason: 'opted_out' }]);
    await expect(accept.accept(sendContext(who), textSend(['+12025550123'], 'news'))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [
        expect.objectContaining({ rejected: [{ phone_number: '+12025550123', reason: 'opted_out' }] }),
      ],
    });
  });

  it("turns a keyword or provider entry into an admin's when an admin adds it (never another admin's); lifts only the sources named", async () => {
    const tenant = await newTenant(ctx.ds);
    const [keyword, provider, admin] = ['+12025550131', '+12025550132', '+12025550133'];
    const stop = { actor: keyword, keyword: 'STOP', answeredTenantId: tenant };
    await optOuts.add(tenant, keyword, OPT_OUT_SOURCE.keyword, 'STOP', stop);
    await newOptOut(ctx.ds, {
      tenant,
      phone: provider,
      source: OPT_OUT_SOURCE.provider,
      reason: 'twilio:21610',
    });
    await optOuts.add(tenant, admin, 'admin:a1', 'by phone', { actor: 'a1' });
    const byAdmin = (phone: string) =>
      optOuts.put(tenant, phone, 'admin:a2', 'wrote to us', { actor: 'a2' }, [
        OPT_OUT_SOURCE.keyword,
        OPT_OUT_SOURCE.provider,
      ]);
    expect(await byAdmin(keyword)).toEqual({ replaced: { source: 'inbound_keyword', reason: 'STOP' } });
    expect(await byAdmin(provider)).toEqual({ replaced: { source: 'provider', reason: 'twilio:21610' } });
    expect(await byAdmin(admin)).toBeNull(); // another admin's entry stays as it was
    expect(await byAdmin('+12025550134')).toEqual({ replaced: null });
    const all = [keyword, provider, admin, '+12025550134'];
    const start = { actor: keyword, keyword: 'START', source: OPT_OUT_SOURCE.keyword };
    expect(
      await optOuts.lift([tenant], keyword, [OPT_OUT_SOURCE.keyword, OPT_OUT_SOURCE.provider], start),
    ).toEqual([]);
    expect([...(await optOuts.filter(tenant, all))].sort()).toEqual(all);
    expect((await optOuts.list(tenant)).find((o) => o.phoneNumber === admin)).toMatchObject({
      source: 'admin:a1',
      reason: 'by phone',
    });
    // A keyword entry of another tenant comes off; this tenant's (now the admin's) stays.
    const other = await newTenant(ctx.ds);
    await optOuts.add(other, keyword, OPT_OUT_SOURCE.keyword, 'STOP', stop);
    expect(await optOuts.lift([tenant, other], keyword, [OPT_OUT_SOURCE.keyword], start)).toEqual([other]);
  });
});
