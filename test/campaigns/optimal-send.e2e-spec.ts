import { DataSource } from 'typeorm';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { waitForStatus } from '../support/messages';
import { eventually } from '../support/wait';

const reminder = {
  template_id: 'class_reminder',
  name: 'Class reminder',
  content_en: 'Hi {{name}}, your class is this week.',
  message_type: 'class_reminder',
  variables: ['name'],
};

const HOUR = 3_600_000;
const hhmm = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;

/**
 * Delivery-time optimisation (docs/campaigns.md): `send_at: "optimal"` schedules each recipient's
 * message at their best local hour within the window, else the tenant's, else the window's start;
 * quiet hours still bind. History is made by sending (and clicking tracked links over HTTP), then
 * dating the rows' send, conversion and click.
 */
describe('campaigns: send_at optimal', () => {
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  const nowHour = new Date().getUTCHours();
  // Hours (UTC, the tenant's and recipients' zone) well inside a 24-hour window from now.
  const own = (nowHour + 5) % 24;
  const tenantBest = (nowHour + 9) % 24;
  const quietBest = (nowHour + 13) % 24;

  async function tenant(settings: Record<string, unknown>): Promise<TokenOptions> {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    await t
      .http()
      .post('/api/sms/tenants')
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({
        id: admin.tenant,
        name: 'optimal',
        settings: { allowed_countries: ['US'], timezone: 'UTC', ...settings },
      })
      .expect(201);
    await t.http().post('/api/sms/templates').set(t.auth(admin)).send(reminder).expect(201);
    return admin;
  }

  /** A past message to `phone`, sent `daysAgo` at `hour`:10 UTC and converted `minutes` later. */
  async function history(admin: TokenOptions, phone: string, daysAgo: number, hour: number, minutes: number) {
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({ phone_number: phone, message: 'Your code is 123456', message_type: 'general_notification' })
      .expect(202);
    await waitForStatus(t, admin, res.body.message_id, 'delivered');
    const day = new Date();
    day.setUTCDate(day.getUTCDate() - daysAgo);
    day.setUTCHours(hour, 10, 0, 0);
    await ds.query('UPDATE sms_messages SET created_at = $2, sent_at = $2, converted_at = $3 WHERE id = $1', [
      res.body.message_id,
      day,
      new Date(day.getTime() + minutes * 60_000),
    ]);
  }

  async function runOptimal(admin: TokenOptions, extra: Record<string, unknown> = {}) {
    const c = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send({
        name: 'Reminder',
        template_id: reminder.template_id,
        recipient_filters: { roles: ['member'] },
        send_at: 'optimal',
        ...extra,
      })
      .expect(201);
    expect(c.body).toMatchObject({
      send_at: 'optimal',
      optimal_window_hours: extra.optimal_window_hours ?? 24,
    });
    await t.http().post(`/api/sms/campaigns/${c.body.campaign_id}/execute`).set(t.auth(admin)).expect(202);
    return eventually(
      async () => {
        const [row] = await ds.query('SELECT snapshot_done, started_at FROM sms_campaigns WHERE id = $1', [
          c.body.campaign_id,
        ]);
        if (!row.snapshot_done) return undefined;
        const rows: {
          recipient_user_id: string;
          status: string;
          scheduled_at: Date | null;
          expires_at: Date | null;
        }[] = await ds.query(
          'SELECT recipient_user_id, status, scheduled_at, expires_at FROM sms_messages WHERE campaign_id = $1 ORDER BY recipient_user_id',
          [c.body.campaign_id],
        );
        return { id: c.body.campaign_id as string, startedAt: new Date(row.started_at), rows };
      },
      30_000,
      'the snapshot',
    );
  }

  /** The first `hour`:00 UTC at or after `from`. */
  const next = (from: Date, hour: number) => {
    const d = new Date(Math.ceil(from.getTime() / 60_000) * 60_000);
    const at = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour));
    return at.getTime() >= d.getTime() ? at : new Date(at.getTime() + 24 * HOUR);
  };

  it("schedules each recipient at their best hour, else the tenant's; quiet hours still bind", async () => {
    const admin = await tenant({ quiet_hours: { start: hhmm(quietBest), end: hhmm(quietBest + 1) } });
    const members = [
      { user_id: 'm1', phone_number: '+12025550601', timezone: 'UTC' }, // answers fast at `own`
      { user_id: 'm2', phone_number: '+12025550602', timezone: 'UTC' }, // no history
      { user_id: 'm3', phone_number: '+12025550603', timezone: 'UTC' }, // best inside quiet hours
    ].map((m) => ({ ...m, roles: ['member'], attributes: { name: m.user_id } }));
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients: members }).expect(200);
    await history(admin, '+12025550601', 3, own, 2);
    await history(admin, '+12025550601', 4, (own + 2) % 24, 300);
    await history(admin, '+12025550699', 2, tenantBest, 0); // not a member: the tenant's best hour (soonest of all)
    await history(admin, '+12025550603', 5, quietBest, 1);
    const { id, rows, startedAt } = await runOptimal(admin, { validity_seconds: 7200 });
    expect(rows.map((r) => [r.recipient_user_id, r.status])).toEqual([
      ['m1', 'scheduled'],
      ['m2', 'scheduled'],
      ['m3', 'scheduled'],
    ]);
    const at = (i: number) => new Date(rows[i].scheduled_at as Date).toISOString();
    expect(at(0)).toBe(next(startedAt, own).toISOString());
    expect(at(1)).toBe(next(startedAt, tenantBest).toISOString());
    // Its best hour is quiet: held to the quiet window's end, an hour later.
    expect(at(2)).toBe(new Date(next(startedAt, quietBest).getTime() + HOUR).toISOString());
    // The validity period counts from the chosen time, not from the snapshot.
    expect(
      new Date(rows[0].expires_at as Date).getTime() - new Date(rows[0].scheduled_at as Date).getTime(),
    ).toBe(7200_000);
    // Leave nothing waiting in the run's shared database.
    await t.http().post(`/api/sms/campaigns/${id}/cancel`).set(t.auth(admin)).expect(200);
  });

  /**
   * A past message to `phone` with a tracked link, sent `daysAgo` at `hour`:10 UTC, its link
   * clicked over HTTP (GET /l/{code}) and the click dated `clickMinutes` later; converted
   * `convertMinutes` later, or never (null).
   */
  async function clickedHistory(
    admin: TokenOptions,
    phone: string,
    daysAgo: number,
    hour: number,
    clickMinutes: number,
    convertMinutes: number | null = null,
  ) {
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({
        phone_number: phone,
        message: 'Spring classes: https://school.example.org/spring',
        message_type: 'general_notification',
      })
      .expect(202);
    const id = res.body.message_id as string;
    await waitForStatus(t, admin, id, 'delivered');
    const [link]: { code: string }[] = await ds.query('SELECT code FROM sms_links WHERE message_id = $1', [
      id,
    ]);
    const click = await t.http().get(`/l/${link.code}`).expect(302);
    expect(click.headers.location).toBe('https://school.example.org/spring');
    const day = new Date();
    day.setUTCDate(day.getUTCDate() - daysAgo);
    day.setUTCHours(hour, 10, 0, 0);
    const after = (minutes: number) => new Date(day.getTime() + minutes * 60_000);
    await ds.query('UPDATE sms_messages SET created_at = $2, sent_at = $2, converted_at = $3 WHERE id = $1', [
      id,
      day,
      convertMinutes === null ? null : after(convertMinutes),
    ]);
    await ds.query('UPDATE sms_link_clicks SET clicked_at = $2 WHERE message_id = $1', [
      id,
      after(clickMinutes),
    ]);
    // The redirect recorded the click (and only the one): now dated.
    const clicks: { clicked_at: Date }[] = await ds.query(
      'SELECT clicked_at FROM sms_link_clicks WHERE message_id = $1',
      [id],
    );
    expect(clicks.map((c) => new Date(c.clicked_at).toISOString())).toEqual([
      after(clickMinutes).toISOString(),
    ]);
  }

  it('chooses the best hour from tracked-link clicks: a click counts as a response, and the sooner of click and code wins', async () => {
    const admin = await tenant({ link_tracking: true });
    const clickOnly = (nowHour + 13) % 24;
    const members = [
      { user_id: 'k1', phone_number: '+12025550801', timezone: 'UTC' }, // clicked soonest at `own`
      { user_id: 'k2', phone_number: '+12025550802', timezone: 'UTC' }, // no history: the tenant's hour
      { user_id: 'k3', phone_number: '+12025550803', timezone: 'UTC' }, // clicks only, never a code
    ].map((m) => ({ ...m, roles: ['member'], attributes: { name: m.user_id } }));
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients: members }).expect(200);
    // k1: at `own` the code came after 5 hours but the link was clicked after 1 minute; at own + 2
    // the code came after 30 minutes, unclicked. By codes alone own + 2 would win; the click makes `own`.
    await clickedHistory(admin, '+12025550801', 3, own, 1, 300);
    await history(admin, '+12025550801', 4, (own + 2) % 24, 30);
    // k3: never a verified code, only clicks.
    await clickedHistory(admin, '+12025550803', 2, clickOnly, 3);
    // Not a member: the tenant's best hour, from a click at once.
    await clickedHistory(admin, '+12025550899', 5, tenantBest, 0);
    const [{ codes }] = await ds.query(
      `SELECT count(*)::int AS codes FROM sms_messages WHERE tenant_id = $1 AND phone_number IN ('+12025550803', '+12025550899') AND converted_at IS NOT NULL`,
      [admin.tenant],
    );
    expect(codes).toBe(0);
    const { id, rows, startedAt } = await runOptimal(admin);
    expect(rows.map((r) => [r.recipient_user_id, r.status])).toEqual([
      ['k1', 'scheduled'],
      ['k2', 'scheduled'],
      ['k3', 'scheduled'],
    ]);
    const at = (i: number) => new Date(rows[i].scheduled_at as Date).toISOString();
    expect(at(0)).toBe(next(startedAt, own).toISOString());
    expect(at(1)).toBe(next(startedAt, tenantBest).toISOString());
    expect(at(2)).toBe(next(startedAt, clickOnly).toISOString());
    await t.http().post(`/api/sms/campaigns/${id}/cancel`).set(t.auth(admin)).expect(200);
  });

  it("sends at the window's start when neither the recipient nor the tenant has history", async () => {
    const empty = await tenant({});
    await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(empty))
      .send({
        recipients: [
          { user_id: 'n1', phone_number: '+12025550701', roles: ['member'], attributes: { name: 'n' } },
        ],
      })
      .expect(200);
    const { rows } = await runOptimal(empty);
    expect(rows[0].scheduled_at).toBeNull(); // due now: queued at the window's start
    expect(['queued', 'sending', 'sent', 'delivered']).toContain(rows[0].status);
  });

  it('400s naming the field for a bad window or a window without send_at optimal', async () => {
    const admin = await tenant({});
    const base = { name: 'x', template_id: reminder.template_id, recipient_filters: { roles: ['member'] } };
    for (const [extra, field] of [
      [{ send_at: 'later' }, 'send_at'],
      [{ send_at: 'optimal', optimal_window_hours: 0 }, 'optimal_window_hours'],
      [{ send_at: 'optimal', optimal_window_hours: 73 }, 'optimal_window_hours'],
      [{ optimal_window_hours: 12 }, 'optimal_window_hours'],
    ] as const) {
      const res = await t
        .http()
        .post('/api/sms/campaigns')
        .set(t.auth(admin))
        .send({ ...base, ...extra })
        .expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });
});
