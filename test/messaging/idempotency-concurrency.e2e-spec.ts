import { DataSource } from 'typeorm';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/** Issue 7 A1: many concurrent requests with one Idempotency-Key once locked the process up. */
describe('idempotency under concurrency', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_RATE_LIMIT: '1000', DATABASE_POOL_SIZE: '5' },
    });
  });
  afterAll(() => t.close());

  it('answers 200 concurrent same-key sends with one message, 409s and replays, and stays responsive', async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const body = { phone_number: '+12025550123', message: 'exactly once' };
    const answers = await Promise.all(
      Array.from({ length: 200 }, () =>
        t.http().post('/api/sms/send').set(t.auth(who)).set('Idempotency-Key', 'burst').send(body),
      ),
    );
    const accepted = answers.filter((a) => a.status === 202);
    const first = accepted.filter((a) => a.headers['idempotent-replayed'] !== 'true');
    expect(first).toHaveLength(1);
    const id = first[0].body.message_id;
    for (const a of answers) {
      if (a.status === 202) {
        expect(a.body).toEqual(first[0].body);
      } else {
        expect(a.status).toBe(409);
        expect(a.headers['retry-after']).toBe('1');
        expect(a.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
        expect(a.body.message).toContain('burst');
      }
    }
    const ds = t.get(DataSource);
    const rows = await ds.query('SELECT id FROM sms_messages WHERE tenant_id = $1', [who.tenant]);
    expect(rows).toEqual([{ id }]);
    await waitForStatus(t, who, id, 'delivered');
    const handedOver = await ds.query(
      `SELECT count(*)::int AS n FROM sms_message_events WHERE message_id = $1 AND status = 'sent'`,
      [id],
    );
    expect(handedOver[0].n).toBe(1);

    // The service answers normally right after.
    const started = Date.now();
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ ...body, message: 'plain' })
      .expect(202);
    await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
