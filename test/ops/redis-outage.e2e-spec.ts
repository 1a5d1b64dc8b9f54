import { DataSource } from 'typeorm';
import { waitForStatus } from '../support/messages';
import { freePort, OwnRedis } from '../support/own-services';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/** A4: losing Redis answers 503 + Retry-After at once, stores nothing, and heals without a restart. */
describe('Redis outage', () => {
  let redis: OwnRedis;
  let t: TestApp;
  let ds: DataSource;
  const who = { tenant: freshTenantId(), roles: ['admin'] };
  const send = (message: string) =>
    t.http().post('/api/sms/send').set(t.auth(who)).send({ phone_number: '+12025550123', message });
  const stored = async () =>
    Number(
      (await ds.query('SELECT count(*) AS n FROM sms_messages WHERE tenant_id = $1', [who.tenant]))[0].n,
    );

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    t = await createTestApp({ env: { REDIS_URL: redis.url, SANDBOX_DELIVERY_DELAY_MS: '10' } });
    ds = t.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await redis?.cleanup();
  });

  it('answers 503 with Retry-After within 1.5 s while Redis is down, stores nothing, and sends again once it is back', async () => {
    const before = await send('before').expect(202);
    await waitForStatus(t, who, before.body.message_id, 'delivered');
    const rowsBefore = await stored();

    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await send(`during ${i}`);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.stringContaining('redis is unavailable'),
      });
    }
    expect(await stored()).toBe(rowsBefore);

    const started = Date.now();
    const ready = await t.http().get('/health/ready');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(ready.status).toBe(503);
    expect(ready.body.message).toBe('not ready: redis unavailable');
    expect(ready.body.details.error).toHaveProperty('redis.status', 'down');
    expect(ready.body.details.info).toHaveProperty('database.status', 'up');

    await redis.start();
    // The same app, not restarted: sends are accepted and the worker delivers them.
    const after = await eventually(async () => {
      const res = await send('after');
      return res.status === 202 ? res : undefined;
    }, 10_000);
    await waitForStatus(t, who, after.body.message_id, 'delivered', 15_000);
    await t.http().get('/health/ready').expect(200);
  });
});
