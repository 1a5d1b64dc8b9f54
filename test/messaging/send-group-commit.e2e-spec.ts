import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  MessagesRepository,
  NewBatch,
  NewMessage,
} from '../../src/messaging/repositories/messages.repository';
import { AcceptService } from '../../src/messaging';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

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
  let t: TestApp;
  let repo: PoisonableRepository;
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_RATE_LIMIT: '1000' },
      override: (b) =>
        b.overrideProvider(MessagesRepository).useFactory({
          factory: (ds: DataSource) => new PoisonableRepository(ds),
          inject: [getDataSourceToken()],
        }),
    });
    repo = t.get(MessagesRepository) as PoisonableRepository;
  });
  afterAll(() => t.close());

  it('fails only the request whose row the database refuses; the others flushed with it are stored', async () => {
    const tenant = freshTenantId();
    const accept = t.get(AcceptService);
    const principal = { userId: 'u1', homeTenantId: tenant, tenantId: tenant, roles: ['admin'] };
    const messages = Array.from({ length: 40 }, (_, i) => (i === 17 ? 'POISON' : `fine ${i}`));
    const answers = await Promise.allSettled(
      messages.map((body) =>
        accept.accept(
          { principal, route: 'test', requestBody: null },
          {
            recipients: ['+12025550123'],
            body,
            messageType: 'general_notification',
            language: 'en',
            mode: 'single',
          },
        ),
      ),
    );
    // The bad row really shared a statement with others.
    expect(Math.max(...repo.refusedSizes)).toBeGreaterThan(1);
    expect(answers[17].status).toBe('rejected');
    const others = answers.filter((_, i) => i !== 17);
    expect(others.map((a) => a.status)).toEqual(others.map(() => 'fulfilled'));
    const stored = await t
      .get(DataSource)
      .query('SELECT count(*)::int AS n FROM sms_messages WHERE tenant_id = $1', [tenant]);
    expect(stored[0].n).toBe(39);
    // And over HTTP, the next sends go through.
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant, user: 'u1', roles: ['admin'] }))
      .send({ phone_number: '+12025550123', message: 'after' })
      .expect(202);
  });
});
