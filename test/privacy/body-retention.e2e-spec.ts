import { DataSource } from 'typeorm';
import { RetentionJob } from '../../src/jobs/retention.job';
import { SystemMessagesRepository } from '../../src/messaging';
import { markFinal, markSent, newMessages, newTenant } from '../medium/factories';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

const DAY = 86_400_000;

/** Body retention (docs/privacy.md#body-retention): the retention job redacts bodies per tenant. */
describe('body retention', () => {
  let t: TestApp;
  let ds: DataSource;
  const operator = () => t.auth({ tenant: 1, roles: ['super_admin'] });
  const patch = (tenant: number, settings: Record<string, unknown>) =>
    t.http().patch(`/api/sms/tenants/${tenant}`).set(operator()).send({ settings });

  beforeAll(async () => {
    t = await createTestApp();
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  /** Messages created `ageMs` ago, sent and delivered at a cost. */
  async function delivered(tenant: number, ageMs: number, body: string): Promise<string> {
    const [id] = await newMessages(ds, { tenant, body, createdAt: new Date(Date.now() - ageMs) });
    await markSent(ds, [id]);
    await markFinal(ds, [id], 'delivered', '0.0079');
    return id;
  }

  async function inbound(tenant: number | null, ageMs: number, body: string): Promise<string> {
    const [{ id }]: { id: string }[] = await ds.query(
      `INSERT INTO sms_inbound_messages (tenant_id, provider, provider_message_id, from_number, to_number, body, received_at)
       VALUES ($1, 'twilio', 'SM' || md5(random()::text), '+12025550199', '+12025550100', $2, $3) RETURNING id::text AS id`,
      [tenant, body, new Date(Date.now() - ageMs)],
    );
    return id;
  }

  /** A `message.inbound` callback delivery carrying `body`, created `ageMs` ago. */
  async function callback(
    tenant: number,
    ageMs: number,
    body: string,
    status = 'delivered',
  ): Promise<string> {
    const [{ id }]: { id: string }[] = await ds.query(
      `INSERT INTO sms_webhook_deliveries (event_id, event_key, event_type, tenant_id, url, payload, status, created_at)
       VALUES (gen_random_uuid(), 'message.inbound:' || md5(random()::text), 'message.inbound', $1,
               'https://example.com/hook', $2, $3, $4) RETURNING id::text AS id`,
      [
        tenant,
        JSON.stringify({
          id: 'evt',
          type: 'message.inbound',
          created_at: 'x',
          data: { body, from: '+12025550199' },
        }),
        status,
        new Date(Date.now() - ageMs),
      ],
    );
    return id;
  }
  const callbackData = async (id: string) =>
    (
      (await ds.query('SELECT payload FROM sms_webhook_deliveries WHERE id = $1', [id]))[0] as {
        payload: { data: Record<string, unknown> };
      }
    ).payload.data;

  const message = async (id: string) =>
    (
      await ds.query(
        `SELECT body, status, cost::text AS cost, sent_at, delivered_at, created_at, updated_at
           FROM sms_messages WHERE id = $1`,
        [id],
      )
    )[0] as Record<string, unknown>;
  const inboundBody = async (id: string) =>
    ((await ds.query('SELECT body FROM sms_inbound_messages WHERE id = $1', [id]))[0] as { body: string })
      .body;

  it("redacts bodies past a tenant's body_retention_days; status, cost, timing and stats stay; others keep theirs", async () => {
    const short = await newTenant(ds);
    await patch(short, { body_retention_days: 1 }).expect(200);
    const plain = await newTenant(ds); // no setting: the service default, 30 days
    const other = await newTenant(ds, { settings: { body_retention_days: 1 } }); // only recent messages

    const oldShort = await delivered(short, 2 * DAY, 'Lesson moved to room 12, Ayşe');
    const recentShort = await delivered(short, 3_600_000, 'See you tomorrow');
    const [pendingShort] = await newMessages(ds, {
      tenant: short,
      body: 'scheduled long ago, still waiting',
      createdAt: new Date(Date.now() - 2 * DAY),
    });
    // Waiting for a time still ahead: a queued row that old is what the sweeper re-queues as lost,
    // and its delivery mid-test would move the stats this test compares.
    await ds.query(
      `UPDATE sms_messages SET status = 'scheduled', scheduled_at = now() + interval '1 day' WHERE id = $1`,
      [pendingShort],
    );
    const oldPlain = await delivered(plain, 2 * DAY, 'Plain tenant, two days old');
    const ancientPlain = await delivered(plain, 40 * DAY, 'Plain tenant, forty days old');
    const recentOther = await delivered(other, 3_600_000, 'Other tenant, an hour old');
    const inShort = await inbound(short, 2 * DAY, 'My son is ill today');
    const inShortRecent = await inbound(short, 3_600_000, 'Thanks');
    const inPlain = await inbound(plain, 2 * DAY, 'Plain reply');
    const hookShort = await callback(short, 2 * DAY, 'My son is ill today');
    const hookPlain = await callback(plain, 2 * DAY, 'Plain reply');

    const admin = { tenant: short, roles: ['admin'] };
    const day = new Date(Date.now() - 2 * DAY).toISOString().slice(0, 10);
    const statsOf = async () =>
      (await t.http().get(`/api/sms/stats?start_date=${day}&end_date=${day}`).set(t.auth(admin)).expect(200))
        .body.totals as unknown;
    const statsBefore = await statsOf();
    const before = await message(oldShort);

    const result = await t.get(RetentionJob).run();
    expect(result.messageBodies).toBeGreaterThanOrEqual(2);
    expect(result.inboundBodies).toBeGreaterThanOrEqual(1);

    expect(await message(oldShort)).toEqual({ ...before, body: '[redacted after 1 day]' });
    expect((await message(recentShort)).body).toBe('See you tomorrow');
    expect((await message(pendingShort)).body).toBe('scheduled long ago, still waiting');
    expect((await message(oldPlain)).body).toBe('Plain tenant, two days old');
    expect((await message(ancientPlain)).body).toBe('[redacted after 30 days]');
    expect((await message(recentOther)).body).toBe('Other tenant, an hour old');
    expect(await inboundBody(inShort)).toBe('[redacted after 1 day]');
    expect(await inboundBody(inShortRecent)).toBe('Thanks');
    expect(await inboundBody(inPlain)).toBe('Plain reply');
    expect(await callbackData(hookShort)).toEqual({ body: '[redacted after 1 day]', from: '+12025550199' });
    expect(await callbackData(hookPlain)).toEqual({ body: 'Plain reply', from: '+12025550199' });

    // What the API shows: the redacted body, with the status and cost as they were.
    const status = await t.http().get(`/api/sms/messages/${oldShort}/status`).set(t.auth(admin)).expect(200);
    expect(JSON.stringify(status.body)).not.toContain('room 12');
    expect(status.body).toMatchObject({ status: 'delivered' });
    expect(await statsOf()).toEqual(statsBefore);

    // A second run finds nothing more to do.
    const again = await t.get(RetentionJob).run();
    expect((await message(oldShort)).body).toBe('[redacted after 1 day]');
    expect(again.messageBodies).toBe(0);
  });

  it('pages through a tenant newest first, skipping pending rows and rows already redacted', async () => {
    const tenant = await newTenant(ds);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await delivered(tenant, (2 + i) * DAY, `old text ${i}`));
    const [pending] = await newMessages(ds, {
      tenant,
      body: 'pending',
      createdAt: new Date(Date.now() - 4.5 * DAY),
    });
    const repo = t.get(SystemMessagesRepository);
    // Pages of 2 rows: 8 rows take 4 full pages and an empty one.
    expect(await repo.redactBodies(tenant, 1, 2)).toBe(7);
    for (const id of ids) expect((await message(id)).body).toBe('[redacted after 1 day]');
    expect((await message(pending)).body).toBe('pending');
    expect(await repo.redactBodies(tenant, 1, 2)).toBe(0);
  });

  it('refuses a bad body_retention_days with 400 naming the field, and null restores the default', async () => {
    const tenant = freshTenantId();
    await t
      .http()
      .post('/api/sms/tenants')
      .set(operator())
      .send({ id: tenant, name: 'retention', settings: { body_retention_days: 7 } })
      .expect(201);
    for (const bad of [0, 3651, 1.5, '7', -1, true]) {
      const res = await patch(tenant, { body_retention_days: bad }).expect(400);
      expect(JSON.stringify(res.body)).toContain(
        'body_retention_days must be a whole number of days from 1 to 3650',
      );
    }
    const unchanged = await t.http().get(`/api/sms/tenants/${tenant}`).set(operator()).expect(200);
    expect(unchanged.body.settings.body_retention_days).toBe(7);
    const cleared = await patch(tenant, { body_retention_days: null }).expect(200);
    expect(cleared.body.settings.body_retention_days).toBeNull();
  });

  it('deletes WhatsApp session windows older than two days and keeps an open one', async () => {
    const [old, open] = ['+19075550901', '+19075550902'];
    await ds.query(
      `INSERT INTO sms_whatsapp_sessions (our_number, phone_number, last_inbound_at)
       VALUES ('+14155550100', $1, now() - interval '3 days'), ('+14155550100', $2, now())`,
      [old, open],
    );
    const result = await t.get(RetentionJob).run();
    expect(result.whatsappSessions).toBeGreaterThanOrEqual(1);
    const left: { phone_number: string }[] = await ds.query(
      'SELECT phone_number FROM sms_whatsapp_sessions WHERE phone_number = ANY($1::varchar[])',
      [[old, open]],
    );
    expect(left.map((r) => r.phone_number)).toEqual([open]);
  });
});
