import { DataSource } from 'typeorm';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/** A9: a time without an offset would be read in the server's time zone, so it is refused. */
describe('times must carry an offset', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** A local wall-clock time two hours ahead, written without an offset (what a careless client sends). */
  const localNoOffset = () => new Date(Date.now() + 2 * 3600_000).toISOString().replace(/Z$/, '');

  describe('POST /api/sms/schedule scheduled_time', () => {
    const schedule = (who: { tenant: number }, scheduled_time: unknown) =>
      t
        .http()
        .post('/api/sms/schedule')
        .set(t.auth({ ...who, roles: ['admin'] }))
        .send({ phone_number: '+12025550123', message: 'later', scheduled_time });

    it.each([
      ['no offset', localNoOffset()],
      ['no offset, no seconds', localNoOffset().slice(0, 16)],
      ['a date only', new Date(Date.now() + 86400_000).toISOString().slice(0, 10)],
      ['an hhmm offset without colon', localNoOffset().slice(0, 19) + '+0300'],
      ['a number', Date.now() + 3600_000],
    ])('refuses %s with a 400 naming the field, storing nothing', async (_what, value) => {
      const who = { tenant: freshTenantId() };
      const res = await schedule(who, value).expect(400);
      expect(res.body.details).toEqual([
        {
          field: 'scheduled_time',
          errors: [expect.stringContaining('scheduled_time must be an ISO 8601 date-time with an offset')],
        },
      ]);
      const rows = await t
        .get(DataSource)
        .query('SELECT 1 FROM sms_messages WHERE tenant_id = $1', [who.tenant]);
      expect(rows).toEqual([]);
    });

    it('accepts Z and ±hh:mm and reads them as the same instant', async () => {
      const at = new Date(Math.ceil((Date.now() + 2 * 3600_000) / 1000) * 1000);
      const z = await schedule({ tenant: freshTenantId() }, at.toISOString()).expect(202);
      expect(z.body.scheduled_time).toBe(at.toISOString());
      // The same instant written in Istanbul time (+03:00) and in New York winter time (-05:00).
      const plus3 = new Date(at.getTime() + 3 * 3600_000).toISOString().replace('Z', '+03:00');
      const istanbul = await schedule({ tenant: freshTenantId() }, plus3).expect(202);
      expect(istanbul.body.scheduled_time).toBe(at.toISOString());
      const minus5 = new Date(at.getTime() - 5 * 3600_000).toISOString().replace('Z', '-05:00');
      const ny = await schedule({ tenant: freshTenantId() }, minus5).expect(202);
      expect(ny.body.scheduled_time).toBe(at.toISOString());
    });
  });

  describe('PUT /api/sms/appointments/{id} starts_at', () => {
    const base = {
      phone_number: '+12025550123',
      trainer_name: 'John Doe',
      location: 'Training Room A',
      timezone: 'Europe/Istanbul',
    };

    it('refuses a starts_at without an offset, even with a timezone, and stores nothing', async () => {
      const who = { tenant: freshTenantId(), roles: ['admin'] };
      const res = await t
        .http()
        .put('/api/sms/appointments/a1')
        .set(t.auth(who))
        .send({ ...base, starts_at: '2030-01-15T11:00:00' })
        .expect(400);
      expect(res.body.details).toEqual([
        {
          field: 'starts_at',
          errors: [expect.stringContaining('starts_at must be an ISO 8601 date-time with an offset')],
        },
      ]);
      await t.http().get('/api/sms/appointments/a1').set(t.auth(who)).expect(404);
    });

    it('accepts a starts_at with an offset and stores the instant', async () => {
      const who = { tenant: freshTenantId(), roles: ['admin'] };
      const res = await t
        .http()
        .put('/api/sms/appointments/a2')
        .set(t.auth(who))
        .send({ ...base, starts_at: '2030-01-15T11:00:00+03:00' })
        .expect(201);
      expect(res.body.starts_at).toBe('2030-01-15T08:00:00.000Z');
    });
  });
});
