import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/** Issue 8 item 5: metadata is capped, and a bulk's shared metadata is stored once. */
describe('message metadata', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_ADMIN_RATE_LIMIT: '10000' } });
  });
  afterAll(() => t.close());

  const deep = (depth: number): Record<string, unknown> => {
    let o: Record<string, unknown> = { leaf: 1 };
    for (let i = 1; i < depth; i++) o = { n: o };
    return o;
  };

  it('refuses a 5,000-deep object with a 400 naming metadata, not a 500', async () => {
    // Written by hand: JSON.stringify itself overflows the stack on such an object.
    const metadata = '{"n":'.repeat(4999) + '{"leaf":1}' + '}'.repeat(4999);
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: freshTenantId() }))
      .set('Content-Type', 'application/json')
      .send(`{"phone_number":"+12025550123","message":"hi","metadata":${metadata}}`)
      .expect(400);
    // The boundary guard refuses absurd nesting before any validator recurses into it.
    expect(res.body.details[0].field).toMatch(/^metadata/);
    expect(res.body.details[0].errors[0]).toMatch(/deeper than/);
  });

  it.each([
    ['6 levels', deep(6), 'deeper than 5'],
    ['51 keys', Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])), 'more than 50 keys'],
    ['over 4 KiB', { note: 'x'.repeat(4100) }, 'at most 4096'],
  ])('refuses %s with a 400 naming metadata, storing nothing', async (_name, metadata, why) => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', message: 'hi', metadata })
      .expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.details[0].field).toBe('metadata');
    expect(JSON.stringify(res.body.details)).toContain(why);
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toHaveLength(0);
  });

  it('stores a 200-number bulk’s 4 KiB metadata once, and history shows it on every message', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const metadata = { campaign: 'spring', note: randomBytes(1950).toString('hex'), tags: ['a', 'b'] };
    const numbers = Array.from({ length: 200 }, (_, i) => `+1202555${String(1000 + i).padStart(4, '0')}`);
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({ phone_numbers: numbers, message: 'spring sale', metadata })
      .expect(202);
    expect(res.body.accepted).toBe(200);
    const [sizes] = await t.get(DataSource).query(
      `SELECT (SELECT sum(pg_column_size(metadata))::int FROM sms_messages WHERE batch_id = $1) AS rows,
              (SELECT pg_column_size(metadata)::int FROM sms_batches WHERE id = $1) AS batch`,
      [res.body.batch_id],
    );
    // One copy on the batch; each row keeps only an empty object (200 copies would be ~800 KB).
    expect(sizes.batch).toBeGreaterThan(3900);
    expect(sizes.rows + sizes.batch).toBeLessThan(2 * 4096);
    const history = await t
      .http()
      .get('/api/sms/history')
      .query({ batch_id: res.body.batch_id, limit: 200 })
      .set(t.auth(who))
      .expect(200);
    expect(history.body.items).toHaveLength(200);
    for (const item of history.body.items) expect(item.metadata).toEqual(metadata);
  });

  it('keeps a single message’s metadata on its row', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', message: 'hi', metadata: { appointment_id: 123 } })
      .expect(202);
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items[0].metadata).toEqual({ appointment_id: 123 });
  });
});
