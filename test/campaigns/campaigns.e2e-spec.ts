import { DataSource } from 'typeorm';
import { CampaignsService } from '../../src/campaigns';
import { Clock } from '../../src/common/clock';
import { FakeClock } from '../support/fake-clock';
import { allowCountries, NO_CONSENT_NEEDED } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';

const trainingReminder = {
  template_id: 'training_reminder',
  name: 'Training Reminder',
  content_en: 'Hello {{name}}, your training is on {{date}}.',
  content_tr: 'Merhaba {{name}}, eğitiminiz {{date}} tarihinde.',
  message_type: 'training_reminder',
  variables: ['name', 'date'],
};

/** The brief's "Create Campaign" body, verbatim (its tenant_id is 1, so the caller is tenant 1). */
const briefCampaign = {
  name: 'March Training Reminder',
  template_id: 'training_reminder',
  recipient_filters: { roles: ['beneficiary'], tenant_id: 1 },
  scheduled_for: '2024-03-10T09:00:00Z',
};

describe('campaigns', () => {
  let t: TestApp;
  let ds: DataSource;
  let campaigns: CampaignsService;
  const clock = new FakeClock();

  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', WEBHOOK_ALLOW_INSECURE: 'true' },
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
    ds = t.get(DataSource);
    campaigns = t.get(CampaignsService);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  /** A tenant with the template and a directory: 4 to send (2 en, 2 tr) and one of each skip. */
  async function tenantWithDirectory(tenant = freshTenantId()): Promise<TokenOptions> {
    const admin = { tenant, roles: ['admin'] };
    await allowCountries(t, tenant, ['US', 'TR'], NO_CONSENT_NEEDED);
    await t.http().post('/api/sms/templates').set(t.auth(admin)).send(trainingReminder).expect(201);
    const recipients = [
      { user_id: 'b1', phone_number: '+12025550101', roles: ['beneficiary'], attributes: { name: 'Ann' } },
      { user_id: 'b2', phone_number: '+12025550102', roles: ['beneficiary'], attributes: { name: 'Bob' } },
      {
        user_id: 'b3',
        phone_number: '+905321110003',
        roles: ['beneficiary'],
        language: 'tr',
        attributes: { name: 'Ayşe' },
      },
      {
        user_id: 'b4',
        phone_number: '+905321110004',
        roles: ['beneficiary'],
        language: 'tr',
        attributes: { name: 'Can' },
      },
      { user_id: 'b5', phone_number: '+12025550105', roles: ['beneficiary'], attributes: { name: 'Opt' } },
      {
        user_id: 'b6',
        phone_number: '+12025550106',
        roles: ['beneficiary'],
        attributes: { name: 'Off' },
        active: false,
      },
      { user_id: 'b7', phone_number: '+12025550107', roles: ['beneficiary'] },
      { user_id: 'b8', phone_number: '+4915112345678', roles: ['beneficiary'], attributes: { name: 'Max' } },
      { user_id: 't1', phone_number: '+12025550109', roles: ['trainer'], attributes: { name: 'Tess' } },
    ];
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients }).expect(200);
    await t
      .http()
      .post('/api/sms/opt-outs')
      .set(t.auth(admin))
      .send({ phone_number: '+12025550105' })
      .expect(204);
    return admin;
  }

  const body = (tenant: number, extra: Record<string, unknown> = {}) => ({
    name: 'March Training Reminder',
    template_id: 'training_reminder',
    recipient_filters: { roles: ['beneficiary'], tenant_id: tenant },
    variables: { date: 'March 10' },
    ...extra,
  });

  async function waitCompleted(who: TokenOptions, id: string) {
    return eventually(
      async () => {
        // Completion is the campaign job's (a read never writes): run it as the worker's schedule would.
        await campaigns.tick();
        const s = await t.http().get(`/api/sms/campaigns/${id}/status`).set(t.auth(who));
        return s.body.status === 'completed' ? s.body : undefined;
      },
      20_000,
      `campaign ${id} to complete`,
    );
  }

  const campaignRows = (id: string) =>
    ds.query(
      'SELECT recipient_user_id, phone_number, body, language, message_type, status FROM sms_messages WHERE campaign_id = $1 ORDER BY recipient_user_id',
      [id],
    ) as Promise<
      { recipient_user_id: string; body: string; language: string; message_type: string; status: string }[]
    >;

  it("accepts the brief's exact create body as a scheduled campaign that runs by itself", async () => {
    clock.advance(Date.parse('2024-03-01T00:00:00Z') - clock.now().getTime());
    try {
      const admin = await tenantWithDirectory(1);
      const res = await t
        .http()
        .post('/api/sms/campaigns')
        .set(t.auth(admin))
        .send(briefCampaign)
        .expect(201);
      expect(res.body).toMatchObject({
        name: 'March Training Reminder',
        template_id: 'training_reminder',
        status: 'scheduled',
        recipient_filters: { roles: ['beneficiary'], tenant_id: 1 },
        scheduled_for: '2024-03-10T09:00:00.000Z',
        estimated_recipients: 8,
      });
      const id = res.body.campaign_id;
      expect(await campaigns.tick()).toMatchObject({ started: [], resumed: [] });
      clock.advance(Date.parse('2024-03-10T09:00:01Z') - clock.now().getTime());
      expect((await campaigns.tick()).started).toEqual([id]);
      const status = await waitCompleted(admin, id);
      // date is not given: every recipient lacks a variable
      expect(status.skipped).toMatchObject({ missing_variables: 5, opted_out: 1, inactive: 1 });
    } finally {
      clock.advance(-clock.now().getTime() + Date.now());
    }
  });

  it('executes once: per-recipient language, skips by reason, status counts, 409 on a second execute', async () => {
    const admin = await tenantWithDirectory();
    const created = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send(body(admin.tenant))
      .expect(201);
    expect(created.body).toMatchObject({ status: 'draft', estimated_recipients: 8 });
    const id = created.body.campaign_id;
    await t
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(t.auth(admin))
      .send({ url: 'http://127.0.0.1:9/hooks', events: ['campaign.completed'] })
      .expect(201);
    await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(admin)).expect(202);
    await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(admin)).expect(409);
    const status = await waitCompleted(admin, id);
    expect(status).toMatchObject({
      campaign_id: id,
      status: 'completed',
      total_recipients: 8,
      queued: 0,
      failed: 0,
      canceled: 0,
      skipped: { opted_out: 1, invalid_phone: 0, missing_variables: 1, inactive: 1, country_not_allowed: 1 },
      currency: 'USD',
      progress: 1,
    });
    expect(status.sent + status.delivered).toBe(4);
    expect(status.completed_at).not.toBeNull();
    // The platform hears of the completion once, however often the status is read.
    await t.http().get(`/api/sms/campaigns/${id}/status`).set(t.auth(admin)).expect(200);
    const published: { data: Record<string, unknown> }[] = await ds.query(
      `SELECT payload->'data' AS data FROM sms_webhook_deliveries
        WHERE tenant_id = $1 AND event_type = 'campaign.completed'`,
      [admin.tenant],
    );
    expect(published).toHaveLength(1);
    expect(published[0].data).toMatchObject({ campaign_id: id, total_recipients: 8 });
    const rows = await campaignRows(id);
    expect(rows.map((r) => [r.recipient_user_id, r.language, r.body, r.message_type])).toEqual([
      ['b1', 'en', 'Hello Ann, your training is on March 10.', 'training_reminder'],
      ['b2', 'en', 'Hello Bob, your training is on March 10.', 'training_reminder'],
      ['b3', 'tr', 'Merhaba Ayşe, eğitiminiz March 10 tarihinde.', 'training_reminder'],
      ['b4', 'tr', 'Merhaba Can, eğitiminiz March 10 tarihinde.', 'training_reminder'],
    ]);
    await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(admin)).expect(409);
    await t.http().post(`/api/sms/campaigns/${id}/cancel`).set(t.auth(admin)).expect(409);
    const list = await t.http().get('/api/sms/campaigns?limit=1').set(t.auth(admin)).expect(200);
    expect(list.body.items[0].campaign_id).toBe(id);
    await t
      .http()
      .get(`/api/sms/campaigns/${id}`)
      .set(t.auth({ tenant: freshTenantId(), roles: ['admin'] }))
      .expect(404);
    // the per-user hourly limit is untouched by campaign sends
    const h = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({ phone_number: '+12025550123', message: 'hi' });
    expect(h.status).toBe(202);
  });

  it('403 for another tenant_id, 404 for an unknown template, 400 for a past scheduled_for', async () => {
    const admin = await tenantWithDirectory();
    await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send(body(admin.tenant + 1))
      .expect(403);
    const nf = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send({ ...body(admin.tenant), template_id: 'nope' })
      .expect(404);
    expect(nf.body.message).toContain('template not found');
    const past = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send(body(admin.tenant, { scheduled_for: '2020-01-01T00:00:00Z' }))
      .expect(400);
    expect(JSON.stringify(past.body.details)).toContain('scheduled_for');
    await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth({ tenant: admin.tenant }))
      .send(body(admin.tenant))
      .expect(403);
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM sms_campaigns WHERE tenant_id = $1', [
      admin.tenant,
    ]);
    expect(n).toBe(0);
  });

  it('previews without storing: counts by language, skips, segments, cost and three rendered texts', async () => {
    const admin = await tenantWithDirectory();
    const res = await t
      .http()
      .post('/api/sms/campaigns/preview')
      .set(t.auth(admin))
      .send(body(admin.tenant))
      .expect(200);
    expect(res.body).toMatchObject({
      total_recipients: 8,
      will_send: 4,
      by_language: { en: 2, tr: 2 },
      skipped: { opted_out: 1, inactive: 1, missing_variables: 1, invalid_phone: 0, country_not_allowed: 1 },
      segments: 4,
      encoding: { 'GSM-7': 2, 'UCS-2': 2 },
      currency: 'USD',
    });
    expect(res.body.sample.map((s: { user_id: string; text: string }) => [s.user_id, s.text])).toEqual([
      ['b1', 'Hello Ann, your training is on March 10.'],
      ['b2', 'Hello Bob, your training is on March 10.'],
      ['b3', 'Merhaba Ayşe, eğitiminiz March 10 tarihinde.'],
    ]);
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM sms_campaigns WHERE tenant_id = $1', [
      admin.tenant,
    ]);
    expect(n).toBe(0);
  });

  it('429 at execute beyond campaign_daily_limit', async () => {
    const admin = await tenantWithDirectory();
    await t
      .http()
      .patch(`/api/sms/tenants/${admin.tenant}`)
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({ settings: { allowed_countries: ['US', 'TR'], campaign_daily_limit: 5 } })
      .expect(200);
    const c = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send(body(admin.tenant))
      .expect(201);
    const refused = await t
      .http()
      .post(`/api/sms/campaigns/${c.body.campaign_id}/execute`)
      .set(t.auth(admin))
      .expect(429);
    expect(refused.body.details).toEqual([
      expect.objectContaining({
        rule: 'campaign_daily_limit',
        limit: 5,
        used: 0,
        retry_after_seconds: Number(refused.headers['retry-after']),
      }),
    ]);
    const after = await t
      .http()
      .get(`/api/sms/campaigns/${c.body.campaign_id}`)
      .set(t.auth(admin))
      .expect(200);
    expect(after.body.status).toBe('draft');
  });

  it('resumes a snapshot that crashed after its first chunk: no recipient twice, none left out', async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    await t.http().post('/api/sms/templates').set(t.auth(admin)).send(trainingReminder).expect(201);
    const recipients = Array.from({ length: 23 }, (_, i) => ({
      user_id: `r${String(i).padStart(2, '0')}`,
      phone_number: `+120255501${String(i).padStart(2, '0')}`,
      roles: ['beneficiary'],
      attributes: { name: `N${i}` },
    }));
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients }).expect(200);
    campaigns.snapshotPageSize = 5;
    let crashed = 0;
    jest.spyOn(campaigns, 'afterPage').mockImplementation(async (_id, page) => {
      if (page === 0 && crashed === 0) {
        crashed += 1;
        throw new Error('worker killed after the first chunk');
      }
    });
    try {
      const c = await t
        .http()
        .post('/api/sms/campaigns')
        .set(t.auth(admin))
        .send(body(admin.tenant))
        .expect(201);
      const id = c.body.campaign_id;
      await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(admin)).expect(202);
      const status = await waitCompleted(admin, id);
      expect(crashed).toBe(1);
      expect(status.total_recipients).toBe(23);
      const rows = await campaignRows(id);
      expect(rows.map((r) => r.recipient_user_id)).toEqual(recipients.map((r) => r.user_id));
      const [{ n }] = await ds.query(
        `SELECT count(*)::int AS n FROM sms_message_events e JOIN sms_messages m ON m.id = e.message_id
          WHERE m.campaign_id = $1 AND e.status = 'sending'`,
        [id],
      );
      expect(n).toBe(23); // each handed over once
    } finally {
      campaigns.snapshotPageSize = 2000;
    }
  });

  it('cancels mid-drain: not-yet-handed-over messages canceled, later recipients never snapshotted', async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    await t.http().post('/api/sms/templates').set(t.auth(admin)).send(trainingReminder).expect(201);
    const recipients = Array.from({ length: 20 }, (_, i) => ({
      user_id: `c${String(i).padStart(2, '0')}`,
      phone_number: `+120255502${String(i).padStart(2, '0')}`,
      roles: ['beneficiary'],
      attributes: { name: `N${i}` },
    }));
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients }).expect(200);
    campaigns.snapshotPageSize = 5;
    const c = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send(body(admin.tenant))
      .expect(201);
    const id = c.body.campaign_id;
    jest.spyOn(campaigns, 'afterPage').mockImplementation(async (_id, page) => {
      if (page === 1) await t.http().post(`/api/sms/campaigns/${id}/cancel`).set(t.auth(admin)).expect(200);
    });
    try {
      await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(admin)).expect(202);
      await eventually(async () => {
        const s = await t.http().get(`/api/sms/campaigns/${id}/status`).set(t.auth(admin));
        return s.body.status === 'canceled' && s.body.sending === 0 ? s.body : undefined;
      });
      const rows = await campaignRows(id);
      expect(rows).toHaveLength(10); // two pages, then the cancel stopped the snapshot
      expect(rows.every((r) => ['canceled', 'sent', 'delivered'].includes(r.status))).toBe(true);
      const status = await t.http().get(`/api/sms/campaigns/${id}/status`).set(t.auth(admin)).expect(200);
      expect(status.body.status).toBe('canceled');
      await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(admin)).expect(409);
    } finally {
      campaigns.snapshotPageSize = 2000;
    }
  });

  it("defers promotional campaign messages inside quiet hours to the window's end; transactional ones go", async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    const now = clock.now();
    const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 3_600_000);
    const quiet = { start: hhmm(new Date(now.getTime() - 3_600_000)), end: hhmm(end) };
    await t
      .http()
      .post('/api/sms/tenants')
      .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
      .send({ id: admin.tenant, name: 'quiet', settings: { quiet_hours: quiet, timezone: 'UTC' } })
      .expect(201);
    await t.http().post('/api/sms/templates').set(t.auth(admin)).send(trainingReminder).expect(201);
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(admin))
      .send({
        ...trainingReminder,
        template_id: 'training_alert',
        message_type: 'training_alert',
        transactional: true,
      })
      .expect(201);
    const recipients = ['q1', 'q2'].map((u, i) => ({
      user_id: u,
      phone_number: `+1202555030${i}`,
      roles: ['beneficiary'],
      attributes: { name: u },
    }));
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients }).expect(200);
    const c = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send(body(admin.tenant))
      .expect(201);
    const id = c.body.campaign_id;
    await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(admin)).expect(202);
    const status = await eventually(async () => {
      const s = await t.http().get(`/api/sms/campaigns/${id}/status`).set(t.auth(admin));
      return s.body.deferred === 2 ? s.body : undefined;
    });
    expect(status).toMatchObject({ status: 'running', queued: 2, deferred: 2, sent: 0 });
    const rows: { status: string; scheduled_at: Date }[] = await ds.query(
      'SELECT status, scheduled_at FROM sms_messages WHERE campaign_id = $1',
      [id],
    );
    expect(rows.map((r) => [r.status, new Date(r.scheduled_at).toISOString()])).toEqual([
      ['scheduled', end.toISOString()],
      ['scheduled', end.toISOString()],
    ]);
    await t.http().post(`/api/sms/campaigns/${id}/cancel`).set(t.auth(admin)).expect(200);

    const tx = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send({ ...body(admin.tenant), template_id: 'training_alert' })
      .expect(201);
    await t.http().post(`/api/sms/campaigns/${tx.body.campaign_id}/execute`).set(t.auth(admin)).expect(202);
    const done = await waitCompleted(admin, tx.body.campaign_id);
    expect(done.deferred).toBe(0);
  });
});
