import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/**
 * Issue 8 item 13: an appointment is changed or deleted by its creator or a tenant admin only.
 * Here, that the routes apply it (as a 404); the rule's cases are in
 * test/medium/appointments/owner-rule.medium-spec.ts.
 */
describe('appointments: owner rule', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const body = {
    user_id: '456',
    phone_number: '+905321234567',
    starts_at: '2026-12-15T11:00:00Z',
    trainer_name: 'John Doe',
    location: 'Training Room A',
    language: 'tr',
    timezone: 'Europe/Istanbul',
  };
  const put = (who: object, id: string, b: object = body) =>
    t
      .http()
      .put(`/api/sms/appointments/${id}`)
      .set(t.auth(who as never))
      .send(b);
  const get = (who: object, id: string) =>
    t
      .http()
      .get(`/api/sms/appointments/${id}`)
      .set(t.auth(who as never));

  function people() {
    const tenant = freshTenantId();
    return {
      admin: { tenant, user: 'admin-1', roles: ['admin'] },
      bob: { tenant, user: 'bob' },
    };
  }

  it("refuses a plain user changing the phone number of an admin's appointment (404) and leaves it", async () => {
    const { admin, bob } = people();
    await put(admin, 'a1').expect(201);
    const res = await put(bob, 'a1', { ...body, phone_number: '+12025550199' }).expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect((await get(admin, 'a1').expect(200)).body.phone_number).toBe('+905321234567');
  });
});
