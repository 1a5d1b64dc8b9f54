import { AcceptService, MessagingModule } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { DeliveryQueue, laneOf } from '../../../src/messaging/delivery/delivery-queue';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

/**
 * The answer of a send does not wait for Redis to take the message's job (the row is committed:
 * a lost enqueue is the sweeper's), but shutdown does: every job of what was accepted is in Bull
 * once the service's shutdown hook has run, with no sweeper involved.
 */
describe('accept: jobs added after the answer, before shutdown', () => {
  let ctx: MediumContext;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [MessagingModule, PhoneModule, MonitoringModule] });
  });
  afterAll(() => ctx.close());

  const jobOf = (tenantId: number, id: string) =>
    ctx.get(DeliveryQueue).queueFor(laneOf('general_notification'), tenantId, id).getJob(id);

  it('answers before the job is added, and has it once beforeApplicationShutdown returns', async () => {
    const accept = ctx.get(AcceptService);
    const who = principal(freshTenantId(), 'u1', ['admin']);
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        accept.accept(sendContext(who), textSend(`+1202555${1000 + i}`, 'Your class starts at 9')),
      ),
    );
    const ids = sent.map((s) => s.result.messages[0].id);
    const jobs = () => Promise.all(ids.map((id) => jobOf(who.tenantId, id)));
    // Asked at once, the jobs are not there yet: the answer did not wait for Redis.
    const atAnswer = jobs();
    await accept.beforeApplicationShutdown();
    const atShutdown = await jobs();
    expect((await atAnswer).filter((j) => j !== null)).toEqual([]);
    expect(ids.filter((_, i) => atShutdown[i] === null)).toEqual([]);
  });
});
