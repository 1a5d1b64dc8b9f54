import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/** Issue 8 item 13: an appointment is changed or deleted by its creator or a tenant admin only. */
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
  const del = (who: object, id: string) =>
    t
      .http()
      .delete(`/api/sms/appointments/${id}`)
      .set(t.auth(who as never));

  function people() {
    const tenant = freshTenantId();
    return {
      admin: { tenant, user: 'admin-1', roles: ['admin'] },
      alice: { tenant, user: 'alice' },
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

  it("refuses a plain user deleting an admin's appointment (404) and keeps it", async () => {
    const { admin, bob } = people();
    await put(admin, 'a2').expect(201);
    await del(bob, 'a2').expect(404);
    await get(admin, 'a2').expect(200);
  });

  it("hides another user's appointment from a plain user exactly like a missing one", async () => {
    const { alice, bob } = people();
    await put(alice, 'a3').expect(201);
    const theirs = await get(bob, 'a3').expect(404);
    const missing = await get(bob, 'no-such').expect(404);
    expect(theirs.body.message.replace('a3', 'ID')).toBe(missing.body.message.replace('no-such', 'ID'));
    await del(bob, 'a3').expect(404);
    await put(bob, 'a3', { ...body, location: 'elsewhere' }).expect(404);
    expect((await get(alice, 'a3').expect(200)).body.location).toBe('Training Room A');
  });

  it('lets the creator read, change and delete their own appointment', async () => {
    const { alice } = people();
    await put(alice, 'a4').expect(201);
    await put(alice, 'a4', { ...body, phone_number: '+12025550123' }).expect(200);
    expect((await get(alice, 'a4').expect(200)).body.phone_number).toBe('+12025550123');
    await del(alice, 'a4').expect(204);
    await get(alice, 'a4').expect(404);
  });

  it("lets a tenant admin change and delete a plain user's appointment; the creator still owns it", async () => {
    const { admin, alice } = people();
    await put(alice, 'a5').expect(201);
    await put(admin, 'a5', { ...body, location: 'Room B' }).expect(200);
    expect((await get(alice, 'a5').expect(200)).body.location).toBe('Room B');
    await del(admin, 'a5').expect(204);
    await get(alice, 'a5').expect(404);
  });

  it('lets a plain user re-create an id after its owner deleted it, and then own it', async () => {
    const { alice, bob } = people();
    await put(alice, 'a6').expect(201);
    await del(alice, 'a6').expect(204);
    await put(bob, 'a6').expect(201);
    await get(alice, 'a6').expect(404);
    await get(bob, 'a6').expect(200);
  });
});
