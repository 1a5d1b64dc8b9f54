import { createTestApp, TestApp } from '../support/test-app';

const PASSWORD = 'dashboard-pass-0123456789';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('queue dashboard /admin/queues without QUEUE_DASHBOARD_PASSWORD', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { QUEUE_DASHBOARD_PASSWORD: '' } });
  });
  afterAll(() => t.close());

  it('is closed: 404 with or without credentials', async () => {
    await t.http().get('/admin/queues').expect(404);
    await t.http().get('/admin/queues/api/queues').set('Authorization', basic('ops', PASSWORD)).expect(404);
  });
});

describe('queue dashboard /admin/queues with QUEUE_DASHBOARD_PASSWORD', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { QUEUE_DASHBOARD_PASSWORD: PASSWORD } });
  });
  afterAll(() => t.close());

  it('asks for basic auth and refuses a wrong password', async () => {
    const none = await t.http().get('/admin/queues').expect(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm="queues"/);
    expect(none.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(JSON.stringify(none.body)).not.toContain(PASSWORD);
    await t.http().get('/admin/queues').set('Authorization', basic('ops', 'wrong')).expect(401);
    await t
      .http()
      .get('/admin/queues')
      .set('Authorization', basic('ops', `${PASSWORD}x`))
      .expect(401);
    await t.http().get('/admin/queues').set('Authorization', `Bearer ${PASSWORD}`).expect(401);
    await t.http().get('/admin/queues/api/queues').set('Authorization', basic('ops', 'wrong')).expect(401);
  });

  it('serves the dashboard with the right password and lists every queue', async () => {
    const page = await t.http().get('/admin/queues').set('Authorization', basic('ops', PASSWORD)).expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const api = await t
      .http()
      .get('/admin/queues/api/queues')
      .set('Authorization', basic('anyone', PASSWORD))
      .expect(200);
    const names = (api.body.queues as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual([
      'sms-campaigns',
      'sms-delivery',
      'sms-delivery-campaigns',
      'sms-delivery-codes',
      'sms-jobs',
    ]);
  });

  it('leaves the bearer-token API as it was', async () => {
    await t.http().get('/api/sms/stats').set('Authorization', basic('ops', PASSWORD)).expect(401);
  });
});
