import { ensureDatabase, migrate } from '../../src/database/bootstrap';
import { waitForStatus } from '../support/messages';
import { freePort, OwnPostgres } from '../support/own-services';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/**
 * A4: losing PostgreSQL answers 503 + Retry-After at once and heals without a restart. Its own
 * cluster (initdb in a temp dir), so stopping it touches nothing shared; bounded to < 30 s.
 */
describe('PostgreSQL outage', () => {
  let pg: OwnPostgres;
  let t: TestApp;
  const who = { tenant: freshTenantId(), roles: ['admin'] };
  const send = (message: string) =>
    t.http().post('/api/sms/send').set(t.auth(who)).send({ phone_number: '+12025550123', message });

  beforeAll(async () => {
    pg = new OwnPostgres(await freePort());
    pg.init();
    await pg.start();
    const url = pg.url('sms_fault');
    await ensureDatabase(url);
    await migrate(url);
    t = await createTestApp({ env: { DATABASE_URL: url, SANDBOX_DELIVERY_DELAY_MS: '10' } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await pg?.cleanup();
  });

  it('answers 503 with Retry-After within 1.5 s while PostgreSQL is down, and sends again once it is back', async () => {
    const before = await send('before').expect(202);
    await waitForStatus(t, who, before.body.message_id, 'delivered');

    await pg.stop();
    for (const path of ['/api/sms/send', '/api/sms/history']) {
      const started = Date.now();
      const res = path === '/api/sms/send' ? await send('during') : await t.http().get(path).set(t.auth(who));
      expect(Date.now() - started).toBeLessThan(1500);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.stringContaining('database is unavailable'),
      });
    }
    const started = Date.now();
    const ready = await t.http().get('/health/ready');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(ready.status).toBe(503);
    expect(ready.body.message).toBe('not ready: database unavailable');

    await pg.start();
    const after = await eventually(async () => {
      const res = await send('after');
      return res.status === 202 ? res : undefined;
    }, 10_000);
    await waitForStatus(t, who, after.body.message_id, 'delivered', 15_000);
    // Nothing was stored while it was down: the two accepted messages only.
    const items = (await t.http().get('/api/sms/history').set(t.auth(who)).expect(200)).body.items;
    expect(items.map((m: { message_id: string }) => m.message_id).sort()).toEqual(
      [before.body.message_id, after.body.message_id].sort(),
    );
  });
});
