import { DataSource } from 'typeorm';
import { RetentionJob } from '../../src/jobs/retention.job';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';

/** Issue 23 item 1: an export of everything held about one number, as a job with a file that expires. */
describe('privacy: exports', () => {
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_PRIVACY_EXPORT_TTL_SECONDS: '5' },
    });
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  const start = (who: TokenOptions, body: Record<string, unknown>) =>
    t.http().post('/api/sms/privacy/exports').set(t.auth(who)).send(body);
  const status = (who: TokenOptions, id: string) =>
    t.http().get(`/api/sms/privacy/exports/${id}`).set(t.auth(who));
  const download = (who: TokenOptions, id: string) =>
    t.http().get(`/api/sms/privacy/exports/${id}/download`).set(t.auth(who));

  it('gathers messages with events, inbound texts, the directory entry and the opt-out; the file expires', async () => {
    const a = freshTenantId();
    const admin = { tenant: a, user: 'dpo', roles: ['admin'] };
    const other = { tenant: freshTenantId(), user: 'dpo', roles: ['admin'] };
    const phone = '+12025550181';
    const sent = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({ phone_number: phone, message: 'your lesson moved to 10:00' })
      .expect(202);
    await waitForStatus(t, admin, sent.body.message_id, 'delivered');
    const code = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(admin))
      .send({ phone_number: phone, purpose: '2fa' })
      .expect(202);
    await ds.query(
      `INSERT INTO sms_inbound_messages (tenant_id, provider, provider_message_id, from_number, to_number, body, received_at)
       VALUES ($1, 'sandbox', $2, $3, '+15005550006', 'thanks, see you', now())`,
      [a, `in-export-${a}`, phone],
    );
    await ds.query(
      `INSERT INTO sms_recipients (tenant_id, user_id, phone_number, tags) VALUES ($1, 'u-181', $2, '{vip}')`,
      [a, phone],
    );
    await t.http().post('/api/sms/opt-outs').set(t.auth(admin)).send({ phone_number: phone }).expect(204);

    const started = await start(admin, { phone_number: phone }).expect(202);
    expect(started.body).toMatchObject({
      kind: 'export',
      status: 'running',
      progress: 0,
      download_url: null,
    });
    const id = started.body.id as string;
    const done = await eventually(async () => {
      const r = await status(admin, id).expect(200);
      return r.body.status === 'completed' ? r.body : undefined;
    });
    expect(done).toMatchObject({
      progress: 100,
      download_url: `/api/sms/privacy/exports/${id}/download`,
      counts: expect.objectContaining({
        messages: 2,
        inbound_messages: 1,
        directory_entries: 1,
        opt_out_history: 1,
      }),
    });
    expect(JSON.stringify(done)).not.toContain(phone);
    // The number waited for the job sealed in the request row (never in Redis), and is gone now.
    const [{ phone_sealed: sealed }] = await ds.query(
      'SELECT phone_sealed FROM sms_privacy_requests WHERE id = $1',
      [id],
    );
    expect(sealed).toBeNull();

    // Another tenant's admin sees nothing of it.
    await status(other, id).expect(404);
    await download(other, id).expect(404);
    expect((await t.http().get('/api/sms/privacy/exports').set(t.auth(other)).expect(200)).body).toEqual([]);

    const file = await download(admin, id).expect(200);
    expect(file.headers['content-disposition']).toContain('attachment');
    const text = file.text;
    const data = JSON.parse(text) as Record<string, unknown>;
    expect(data.phone_number).toBe(phone);
    const messages = data.messages as {
      id: string;
      body: string;
      message_type: string;
      events: { status: string }[];
    }[];
    const plain = messages.find((m) => m.id === sent.body.message_id);
    expect(plain?.body).toBe('your lesson moved to 10:00');
    expect(plain?.events.map((e) => e.status)).toEqual(
      expect.arrayContaining(['queued', 'sent', 'delivered']),
    );
    // The code message is there, its code never: only the stored, redacted body.
    const codeMessage = messages.find((m) => m.id === code.body.message_id);
    expect(codeMessage?.body).toContain('******');
    expect(codeMessage?.body).not.toMatch(/\d{4,}/);
    expect(data.inbound_messages).toEqual([expect.objectContaining({ body: 'thanks, see you' })]);
    expect(data.directory_entries).toEqual([expect.objectContaining({ user_id: 'u-181', tags: ['vip'] })]);
    expect(data.opt_out).toEqual(expect.objectContaining({ source: 'admin:dpo' }));

    // Audited, with the number's hash only.
    const audit = await t
      .http()
      .get('/api/sms/audit')
      .set(t.auth(admin))
      .query({ target_type: 'privacy_request' });
    expect(audit.body.items).toEqual([expect.objectContaining({ action: 'privacy.export', target_id: id })]);
    expect(JSON.stringify(audit.body)).not.toContain(phone);

    // After SMS_PRIVACY_EXPORT_TTL_SECONDS: 404, and retention deletes the file.
    await eventually(async () => ((await download(admin, id)).status === 404 ? true : undefined));
    expect((await status(admin, id).expect(200)).body.download_url).toBeNull();
    await t.get(RetentionJob).run();
    const [{ file: kept }] = await ds.query('SELECT file FROM sms_privacy_requests WHERE id = $1', [id]);
    expect(kept).toBeNull();
  });

  it('refuses bad input naming the field, unknown ids and non-admins', async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    const missing = await start(admin, {}).expect(400);
    expect(JSON.stringify(missing.body)).toContain('phone_number');
    const bad = await start(admin, { phone_number: '12' }).expect(400);
    expect(JSON.stringify(bad.body)).toContain('phone_number');
    await start({ tenant: admin.tenant }, { phone_number: '+12025550182' }).expect(403);
    await status(admin, 'not-a-uuid').expect(404);
    await status(admin, '3f1c9a52-6b7d-4e21-9a0f-5c2d8e7b1a64').expect(404);
    expect((await t.http().get('/api/sms/privacy/exports').set(t.auth(admin)).expect(200)).body).toEqual([]);
  });
});
