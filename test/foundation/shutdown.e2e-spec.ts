import { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';
import { createTestApp, freshTenantId } from '../support/test-app';
import { eventually } from '../support/wait';

describe('graceful shutdown', () => {
  let db: DataSource;
  beforeAll(async () => {
    db = await createDataSource(process.env.DATABASE_URL as string, 2).initialize();
  });
  afterAll(() => db.destroy());

  const statusOf = async (id: string) =>
    ((await db.query('SELECT status FROM sms_messages WHERE id = $1', [id])) as { status: string }[])[0]
      ?.status;

  it('finishes a delivery in flight before the process closes, stranding nothing in sending', async () => {
    const t = await createTestApp({
      env: { SANDBOX_LATENCY_MS: '400', SANDBOX_DELIVERY_DELAY_MS: '3600000' },
    });
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_number: '+12025550123', message: 'in flight' })
      .expect(202);
    const id = res.body.message_id as string;
    await eventually(async () => ((await statusOf(id)) === 'sending' ? true : undefined));
    await t.close(); // what SIGTERM triggers (enableShutdownHooks)
    expect(await statusOf(id)).toBe('sent');
  });
});
