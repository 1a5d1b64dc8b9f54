import { AcceptService, MessagingModule, OptOutsService } from '../../../src/messaging';
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
});
