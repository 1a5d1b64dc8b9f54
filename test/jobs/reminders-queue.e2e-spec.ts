import { DataSource } from 'typeorm';
import { JobsQueue } from '../../src/jobs/jobs-queue';
import { RemindersJob } from '../../src/jobs/reminders.job';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/** B6: a reminders tick only queues per-tenant jobs; the worker sends them in bounded parts. */
describe('reminders through the sms-jobs queue', () => {
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_REMINDERS_PER_JOB: '5', SMS_JOBS_CONCURRENCY: '2' },
    });
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  const appointments = async (tenant: number, n: number) => {
    for (let i = 0; i < n; i++) {
      await t
        .http()
        .put(`/api/sms/appointments/apt-${i}`)
        .set(t.auth({ tenant, roles: ['admin'] }))
        .send({
          phone_number: '+12025550123',
          trainer_name: 'John Doe',
          location: 'Room A',
          starts_at: new Date(Date.now() + 3600_000 + i * 60_000).toISOString(),
        })
        .expect(201);
    }
  };
  const reminded = async (tenant: number) =>
    (await ds.query(
      `SELECT a.appointment_id, a.reminder_sent_at,
              (SELECT count(*) FROM sms_messages m WHERE m.tenant_id = a.tenant_id
                  AND m.metadata->>'appointment_id' = a.appointment_id)::int AS messages
         FROM sms_appointments a WHERE a.tenant_id = $1 ORDER BY a.reminder_sent_at`,
      [tenant],
    )) as { appointment_id: string; reminder_sent_at: Date | null; messages: number }[];

  it('queues one job per tenant and tick, and both tenants get every reminder once', async () => {
    const big = freshTenantId();
    const small = freshTenantId();
    await appointments(big, 12);
    await appointments(small, 1);

    const reminders = t.get(RemindersJob);
    const tick = new Date();
    const ids = await reminders.enqueue(tick);
    const mine = ids.filter(
      (id) => id.startsWith(`reminders:${big}:`) || id.startsWith(`reminders:${small}:`),
    );
    expect(mine).toHaveLength(2);
    expect(mine.every((id) => /^reminders:\d+:\d+:0$/.test(id))).toBe(true);
    // Another replica's (or a late) tick planned for the same time adds the same ids: Bull keeps one job each.
    expect(await reminders.enqueue(tick)).toEqual(expect.arrayContaining(mine));

    const done = await eventually(
      async () => {
        const [b, s] = [await reminded(big), await reminded(small)];
        return [...b, ...s].every((a) => a.reminder_sent_at !== null) ? { b, s } : undefined;
      },
      30_000,
      'every reminder sent',
    );
    // Exactly one message per appointment, although two ticks queued the window.
    expect(done.b.map((a) => a.messages)).toEqual(Array(12).fill(1));
    expect(done.s.map((a) => a.messages)).toEqual([1]);
    // The small tenant did not wait behind the big one's 12 reminders.
    expect(done.s[0].reminder_sent_at!.getTime()).toBeLessThan(done.b[11].reminder_sent_at!.getTime());

    // The big tenant's reminders went out in parts of SMS_REMINDERS_PER_JOB (5 + 5 + 2).
    const jobs = await t.get(JobsQueue).queue.getJobs(['completed']);
    const parts = jobs.filter((j) => String(j.id).startsWith(`reminders:${big}:`));
    expect(parts.map((j) => (j.returnvalue as { sent: number }).sent).sort()).toEqual([2, 5, 5]);
  });

  it('sends nothing more on the next tick: reminders stay idempotent per appointment start', async () => {
    const tenant = freshTenantId();
    await appointments(tenant, 2);
    await t.get(RemindersJob).runTenantAll(tenant);
    await t.get(RemindersJob).enqueue(new Date());
    expect((await t.get(RemindersJob).runTenantAll(tenant)).sent).toBe(0);
    expect((await reminded(tenant)).map((a) => a.messages)).toEqual([1, 1]);
  });
});
