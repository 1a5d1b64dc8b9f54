import { DataSource } from 'typeorm';
import { OptOutsService, PhoneHasher } from '../../src/messaging';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { freshPhone } from '../support/ids';

/**
 * Issue 23 item 1: an erasure redacts a number and its texts everywhere a tenant holds them, keeps
 * the number refused (by its keyed hash only), and changes no count or cost.
 */
describe('privacy: erasures', () => {
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  const send = (who: TokenOptions, phone: string, message: string) =>
    t.http().post('/api/sms/send').set(t.auth(who)).send({ phone_number: phone, message });
  const erase = (who: TokenOptions, body: Record<string, unknown>) =>
    t.http().post('/api/sms/privacy/erasures').set(t.auth(who)).send(body);
  const stats = async (who: TokenOptions) =>
    (await t.http().get('/api/sms/stats').set(t.auth(who)).expect(200)).body.totals;

  /** Every row of the tenant where `needle` is still readable, by table. */
  async function inClear(tenant: number, needle: string): Promise<Record<string, number>> {
    const like = `%${needle}%`;
    const q = async (sql: string) => ((await ds.query(sql, [tenant, like])) as { n: number }[])[0].n;
    return {
      messages: await q(
        'SELECT count(*)::int AS n FROM sms_messages WHERE tenant_id = $1 AND (phone_number LIKE $2 OR body LIKE $2)',
      ),
      message_events: await q(
        `SELECT count(*)::int AS n FROM sms_message_events e JOIN sms_messages m ON m.id = e.message_id
          WHERE m.tenant_id = $1 AND e.payload::text LIKE $2`,
      ),
      inbound: await q(
        'SELECT count(*)::int AS n FROM sms_inbound_messages WHERE tenant_id = $1 AND (from_number LIKE $2 OR body LIKE $2)',
      ),
      directory: await q(
        'SELECT count(*)::int AS n FROM sms_recipients WHERE tenant_id = $1 AND phone_number LIKE $2',
      ),
      appointments: await q(
        'SELECT count(*)::int AS n FROM sms_appointments WHERE tenant_id = $1 AND phone_number LIKE $2',
      ),
      codes: await q(
        'SELECT count(*)::int AS n FROM sms_verification_codes WHERE tenant_id = $1 AND phone_number LIKE $2',
      ),
      deliveries: await q(
        'SELECT count(*)::int AS n FROM sms_webhook_deliveries WHERE tenant_id = $1 AND payload::text LIKE $2',
      ),
      opt_outs: await q(
        'SELECT count(*)::int AS n FROM sms_opt_outs WHERE tenant_id = $1 AND phone_number LIKE $2',
      ),
      idempotency: await q(
        'SELECT count(*)::int AS n FROM sms_idempotency_keys WHERE tenant_id = $1 AND response::text LIKE $2',
      ),
      opt_out_events: await q(
        'SELECT count(*)::int AS n FROM sms_opt_out_events WHERE tenant_id = $1 AND phone_number LIKE $2',
      ),
      consents: await q(
        'SELECT count(*)::int AS n FROM sms_consents WHERE tenant_id = $1 AND phone_number LIKE $2',
      ),
      consent_events: await q(
        'SELECT count(*)::int AS n FROM sms_consent_events WHERE tenant_id = $1 AND phone_number LIKE $2',
      ),
      requests: await q(
        'SELECT count(*)::int AS n FROM sms_privacy_requests WHERE tenant_id = $1 AND (counts::text LIKE $2 OR phone_hash LIKE $2)',
      ),
      audit: await q(
        `SELECT count(*)::int AS n FROM sms_audit_log WHERE tenant_id = $1 AND action LIKE 'privacy.%'
            AND (coalesce(after::text, '') LIKE $2 OR target_id LIKE $2)`,
      ),
    };
  }
  const nothing = (counts: Record<string, number>) =>
    Object.fromEntries(Object.keys(counts).map((k) => [k, 0]));

  /** Rows of every place for one tenant and number, written the way their owners write them. */
  async function personalData(tenant: number, phone: string, text: string): Promise<void> {
    await ds.query(
      `INSERT INTO sms_inbound_messages (tenant_id, provider, provider_message_id, from_number, to_number, body, received_at)
       VALUES ($1, 'sandbox', $2, $3, '+15005550006', $4, now())`,
      [tenant, `in-${tenant}-${phone}`, phone, `reply ${text}`],
    );
    await ds.query(`INSERT INTO sms_recipients (tenant_id, user_id, phone_number) VALUES ($1, $2, $3)`, [
      tenant,
      `user-${phone}`,
      phone,
    ]);
    for (const table of ['sms_consents', 'sms_consent_events'])
      await ds.query(
        `INSERT INTO ${table} (tenant_id, phone_number, channel, status, source, at)
         VALUES ($1, $2, 'sms', 'granted', 'HS_WEB', now())`,
        [tenant, phone],
      );
    await ds.query(
      `INSERT INTO sms_appointments (tenant_id, appointment_id, phone_number, starts_at, trainer_name, location, timezone)
       VALUES ($1, $2, $3, now() + interval '2 days', 'Ayşe', 'Room 1', 'Europe/Istanbul')`,
      [tenant, `apt-${phone}`, phone],
    );
    await ds.query(
      `INSERT INTO sms_webhook_deliveries (event_id, event_key, event_type, tenant_id, url, payload)
       VALUES (gen_random_uuid(), $1, 'message.inbound', $2, 'https://example.com/hook', $3)`,
      [
        `inbound:${tenant}:${phone}`,
        tenant,
        JSON.stringify({ type: 'message.inbound', data: { from: phone, body: `reply ${text}` } }),
      ],
    );
  }

  it('redacts the number and its texts everywhere, keeps it refused, and leaves counts and other tenants alone', async () => {
    const a = freshTenantId();
    const b = freshTenantId();
    const adminA = { tenant: a, user: 'dpo', roles: ['admin'] };
    const adminB = { tenant: b, user: 'dpo', roles: ['admin'] };
    const phone = '+12025550171';
    const text = 'private note 7731';
    for (const who of [adminA, adminB]) {
      const sent = await send(who, phone, `hello ${text}`).expect(202);
      await waitForStatus(t, who, sent.body.message_id, 'delivered');
      await t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .send({ phone_number: phone, purpose: '2fa' })
        .expect(202);
      await personalData(who.tenant, phone, text);
      await t.http().post('/api/sms/opt-outs').set(t.auth(who)).send({ phone_number: phone }).expect(204);
      // A stored idempotent answer that names the number (rejected: opted_out).
      const bulk = await t
        .http()
        .post('/api/sms/send-bulk')
        .set(t.auth(who))
        .set('Idempotency-Key', `bulk-${who.tenant}`)
        .send({ phone_numbers: [phone, '+12025550179'], message: 'bulk note' })
        .expect(202);
      expect(bulk.body.rejected).toEqual([{ phone_number: phone, reason: 'opted_out' }]);
    }
    // A message still waiting (scheduled) is canceled, not handed to a provider afterwards.
    const later = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth(adminA))
      .send({
        phone_number: '+12025550172',
        message: 'later, another number',
        scheduled_time: new Date(Date.now() + 3_600_000).toISOString(),
      });
    // The number wrote to a WhatsApp sender: its 24-hour window names it.
    await ds.query(
      `INSERT INTO sms_whatsapp_sessions (our_number, phone_number, last_inbound_at) VALUES ('+14155550100', $1, now())`,
      [phone],
    );
    const beforeA = await stats(adminA);
    const beforeB = await inClear(b, phone);
    expect(beforeB.messages).toBeGreaterThan(0);
    expect(beforeB.idempotency).toBe(1);

    const res = await erase(adminA, { phone_number: phone, confirm: 'erase' }).expect(200);
    expect(res.body).toMatchObject({
      kind: 'erasure',
      status: 'completed',
      irreversible: true,
      all_tenants: false,
      counts: expect.objectContaining({
        messages: 2,
        inbound_messages: 1,
        directory_entries: 1,
        appointments: 1,
      }),
    });
    expect(res.body.counts.verification_rows).toBe(1);
    expect(res.body.counts.callback_deliveries).toBe(1);
    expect(res.body.counts.opt_outs).toBe(1);
    expect(res.body.counts.idempotency_results).toBe(1);
    expect(res.body.counts).toMatchObject({ consents: 1, consent_events: 1, whatsapp_sessions: 1 });
    expect(JSON.stringify(res.body)).not.toContain(phone);
    // The consent history keeps the change, without the number.
    const [{ n: erasedConsent }] = await ds.query(
      `SELECT count(*)::int AS n FROM sms_consent_events WHERE tenant_id = $1 AND phone_number = 'erased' AND status = 'granted'`,
      [a],
    );
    expect(erasedConsent).toBeGreaterThanOrEqual(1);

    const left = await inClear(a, phone);
    expect(left).toEqual(nothing(left));
    const bodies = await inClear(a, text);
    expect(bodies.messages + bodies.inbound + bodies.deliveries).toBe(0);
    // The suppression list keeps the keyed hash only, and the number is still refused.
    const [{ n: hashes }] = await ds.query(
      'SELECT count(*)::int AS n FROM sms_opt_out_hashes WHERE tenant_id = $1',
      [a],
    );
    expect(hashes).toBe(1);
    const refused = await send(adminA, phone, 'again').expect(400);
    expect(refused.body.message).toContain('opted out');
    // Counts and costs are those of before.
    expect(await stats(adminA)).toEqual(beforeA);
    // Another tenant's data is untouched.
    expect(await inClear(b, phone)).toEqual(beforeB);
    // The scheduled message to another number stays; the erasure is listed, for its tenant only.
    expect(later.status).toBe(202);
    await waitForStatus(t, adminA, later.body.message_id, 'scheduled');
    const listA = await t.http().get('/api/sms/privacy/erasures').set(t.auth(adminA)).expect(200);
    expect(listA.body.map((r: { id: string }) => r.id)).toEqual([res.body.id]);
    expect((await t.http().get('/api/sms/privacy/erasures').set(t.auth(adminB)).expect(200)).body).toEqual(
      [],
    );
    // Audited with the number's hash, never the number.
    const audit = await t
      .http()
      .get('/api/sms/audit')
      .set(t.auth(adminA))
      .query({ target_type: 'privacy_request' });
    expect(audit.status).toBe(200);
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        action: 'privacy.erasure',
        target_id: res.body.id,
        after: expect.objectContaining({ phone_hash: expect.any(String) }),
      }),
    ]);
    expect(JSON.stringify(audit.body)).not.toContain(phone);
  });

  it('cancels a waiting message to the number and keeps an erased number with no opt-out refused', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const phone = '+12025550173';
    const waiting = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth(who))
      .send({
        phone_number: phone,
        message: 'see you',
        scheduled_time: new Date(Date.now() + 3_600_000).toISOString(),
      })
      .expect(202);
    const res = await erase(who, { phone_number: phone, confirm: 'erase' }).expect(200);
    expect(res.body.counts).toMatchObject({ canceled_messages: 1, messages: 1, opt_outs: 0 });
    await waitForStatus(t, who, waiting.body.message_id, 'canceled');
    await send(who, phone, 'hi').expect(400);
    // A bulk too: the erased number is rejected opted_out, the others go.
    const bulk = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({ phone_numbers: ['+12025550183', phone], message: 'bulk' })
      .expect(202);
    expect(bulk.body).toMatchObject({
      accepted: 1,
      rejected: [{ phone_number: phone, reason: 'opted_out' }],
    });
    // The opt-out list shows no clear entry for it.
    const list = await t.http().get('/api/sms/opt-outs').set(t.auth(who)).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(phone);
  });

  it('refuses bad input naming the field, and all_tenants for a tenant admin', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const noConfirm = await erase(who, { phone_number: '+12025550175' }).expect(400);
    expect(JSON.stringify(noConfirm.body)).toContain('confirm');
    const badPhone = await erase(who, { phone_number: 'not a phone', confirm: 'erase' }).expect(400);
    expect(JSON.stringify(badPhone.body)).toContain('phone_number');
    await erase(who, { phone_number: '+12025550175', confirm: 'erase', all_tenants: true }).expect(403);
    await erase({ tenant: who.tenant }, { phone_number: '+12025550175', confirm: 'erase' }).expect(403);
    // None of these erased anything or left a record.
    expect((await t.http().get('/api/sms/privacy/erasures').set(t.auth(who)).expect(200)).body).toEqual([]);
    await send(who, '+12025550175', 'still fine').expect(202);
  });

  it("lets a super_admin erase a number in every tenant's data", async () => {
    const a = freshTenantId();
    const b = freshTenantId();
    const phone = freshPhone(); // counted in every tenant: no other suite's messages to it
    for (const tenant of [a, b]) {
      const who = { tenant, roles: ['admin'] };
      const sent = await send(who, phone, 'hi there').expect(202);
      await waitForStatus(t, who, sent.body.message_id, 'delivered');
    }
    const root = { tenant: a, user: 'root', roles: ['super_admin'] };
    const res = await erase(root, { phone_number: phone, confirm: 'erase', all_tenants: true }).expect(200);
    expect(res.body).toMatchObject({ all_tenants: true, counts: expect.objectContaining({ messages: 2 }) });
    for (const tenant of [a, b]) {
      const left = await inClear(tenant, phone);
      expect(left).toEqual(nothing(left));
      await send({ tenant }, phone, 'again').expect(400);
    }
  });
});

/**
 * The race: a send whose opt-out check passed just before the erasure's suppression entry
 * committed, and whose insert lands after the erasure's first pass. The accept path's opt-out
 * lookup is slowed down here (300 ms after it answered), so that window is wide every time.
 */
describe('privacy: an erasure racing sends', () => {
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10' },
      override: (b) =>
        b.overrideProvider(OptOutsService).useFactory({
          inject: [DataSource, PhoneHasher],
          factory: (d: DataSource, h: PhoneHasher) => new SlowOptOuts(d, h),
        }),
    });
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  it('leaves no number or body in clear, and refuses the sends after it', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const phone = '+12025550174';
    const text = 'racing body 5521';
    const send = (i: number) =>
      t
        .http()
        .post('/api/sms/send')
        .set(t.auth(who))
        .send({ phone_number: phone, message: `${text} ${i}` });
    // Sends every 20 ms from 0 to 580 ms; the erasure starts at 150 ms.
    const sends = Array.from({ length: 30 }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 20)).then(() => send(i)),
    );
    const erasure = new Promise((r) => setTimeout(r, 150)).then(() =>
      t
        .http()
        .post('/api/sms/privacy/erasures')
        .set(t.auth(who))
        .send({ phone_number: phone, confirm: 'erase' }),
    );
    const [answers, erased] = await Promise.all([Promise.all(sends), erasure]);
    expect(erased.status).toBe(200);
    const statuses = answers.map((a) => a.status);
    // The race happened: sends accepted before the erasure, refused after it.
    expect(statuses).toContain(202);
    expect(statuses).toContain(400);
    for (const s of statuses) expect([202, 400]).toContain(s);
    const [{ n }] = await ds.query(
      `SELECT count(*)::int AS n FROM sms_messages
        WHERE tenant_id = $1 AND (phone_number = $2 OR body LIKE $3)`,
      [who.tenant, phone, `%${text}%`],
    );
    expect(n).toBe(0);
    const [{ erasedRows }] = await ds.query(
      `SELECT count(*)::int AS "erasedRows" FROM sms_messages WHERE tenant_id = $1 AND phone_number = 'erased'`,
      [who.tenant],
    );
    expect(erasedRows).toBe(statuses.filter((s) => s === 202).length);
    await send(99).expect(400);
  });
});

class SlowOptOuts extends OptOutsService {
  override async filter(tenantId: number, phoneNumbers: string[]): Promise<Set<string>> {
    const found = await super.filter(tenantId, phoneNumbers);
    await new Promise((r) => setTimeout(r, 300));
    return found;
  }
}
