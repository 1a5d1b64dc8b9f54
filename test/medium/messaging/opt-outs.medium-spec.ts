import { MessagingModule, OptOutsService } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { freshTenantId, newOptOut } from '../factories';
import { createMediumContext, MediumContext } from '../medium-context';

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
});
