import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ReplicaReads } from '../../../src/database/replica-reads';
import { AcceptService, MessagingModule } from '../../../src/messaging';
import {
  MessagesRepository,
  NewBatch,
  NewMessage,
} from '../../../src/messaging/repositories/messages.repository';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

/**
 * A repository whose statement PostgreSQL really refuses when it holds a row marked POISON: the
 * mark is swapped for a NUL byte after validation, as a value that passes every check but the
 * database's. Records how many rows the refused statements held.
 */
class PoisonableRepository extends MessagesRepository {
  readonly refusedSizes: number[] = [];

  override async insertMany(
    manager: EntityManager,
    messages: NewMessage[],
    source: string,
    batches: NewBatch[] = [],
  ): Promise<void> {
    const rows = messages.map((m) => (m.body.includes('POISON') ? { ...m, body: 'x\u0000' } : m));
    try {
      await super.insertMany(manager, rows, source, batches);
    } catch (e) {
      this.refusedSizes.push(rows.length);
      throw e;
    }
  }
}

describe('group commit (issue 7 A10)', () => {
  let ctx: MediumContext;
  let repo: PoisonableRepository;
  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [MessagingModule, PhoneModule, MonitoringModule],
      env: { SMS_RATE_LIMIT: '1000' },
      override: (b) =>
        b.overrideProvider(MessagesRepository).useFactory({
          factory: (ds: DataSource, reads: ReplicaReads) => new PoisonableRepository(ds, reads),
          inject: [getDataSourceToken(), ReplicaReads],
        }),
    });
    repo = ctx.get(MessagesRepository) as PoisonableRepository;
  });
  afterAll(() => ctx.close());

  it('fails only the request whose row the database refuses; the others flushed with it are stored', async () => {
    const tenant = freshTenantId();
    const accept = ctx.get(AcceptService);
    const who = principal(tenant, 'u1', ['admin']);
    const messages = Array.from({ length: 40 }, (_, i) => (i === 17 ? 'POISON' : `fine ${i}`));
    const answers = await Promise.allSettled(
      messages.map((body) =>
        accept.accept(sendContext(who, { route: 'test', body: null }), textSend('+12025550123', body)),
      ),
    );
    // The bad row really shared a statement with others.
    expect(Math.max(...repo.refusedSizes)).toBeGreaterThan(1);
    expect(answers[17].status).toBe('rejected');
    const others = answers.filter((_, i) => i !== 17);
    expect(others.map((a) => a.status)).toEqual(others.map(() => 'fulfilled'));
    const stored = await ctx.ds.query('SELECT count(*)::int AS n FROM sms_messages WHERE tenant_id = $1', [
      tenant,
    ]);
    expect(stored[0].n).toBe(39);
    // And the next sends go through.
    await accept.accept(sendContext(who), textSend('+12025550123', 'after'));
  });
});
