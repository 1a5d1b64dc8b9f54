import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import {
  FAKE_TWILIO_SID,
  FAKE_TWILIO_SID_2,
  FAKE_TWILIO_SID_3,
  FAKE_TWILIO_TOKEN,
  FAKE_TWILIO_TOKEN_2,
  FAKE_TWILIO_TOKEN_3,
  FakeTwilio,
  twilioError,
} from '../fakes/fake-twilio';
import { FakeSns } from '../fakes/fake-sns';
import { StatusJob } from '../../src/jobs/status.job';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, LogCapture, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';
import { forgetProviderAccounts } from '../support/tenants';

/** This file's accounts are forgotten when it ends (a production start elsewhere would need the key). */
const started = new Date();

const PUBLIC_BASE_URL = 'https://sms.example.test';
const KEY = randomBytes(32).toString('base64');

describe("tenants' own provider accounts", () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  const logs = new LogCapture();
  let t: TestApp;
  const tenantA = freshTenantId();
  const tenantB = freshTenantId();
  const adminA = { tenant: tenantA, roles: ['admin'] };
  const adminB = { tenant: tenantB, roles: ['admin'] };
  const accounts = (who: { tenant: number; roles: string[] }, id = who.tenant) =>
    t.http().get(`/api/sms/tenants/${id}/provider-accounts`).set(t.auth(who));
  const put = (who: { tenant: number; roles: string[] }, provider: string, body: object, id = who.tenant) =>
    t.http().put(`/api/sms/tenants/${id}/provider-accounts/${provider}`).set(t.auth(who)).send(body);
  const send = (tenant: number, message: string) =>
    t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant }))
      .send({ phone_number: '+12025550123', message })
      .expect(202)
      .then((r) => r.body.message_id as string);

  beforeAll(async () => {
    twilioFake
      .addAccount(FAKE_TWILIO_SID_2, FAKE_TWILIO_TOKEN_2)
      .addAccount(FAKE_TWILIO_SID_3, FAKE_TWILIO_TOKEN_3);
    t = await createTestApp({
      logs,
      env: {
        TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
        TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
        TWILIO_PHONE_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: await twilioFake.start(),
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret',
        AWS_REGION: 'us-east-1',
        AWS_SNS_ENDPOINT: await snsFake.start(),
        SMS_PROVIDERS: 'twilio',
        PUBLIC_BASE_URL,
        PROVIDER_CREDENTIALS_KEY: KEY,
        PROVIDER_CREDENTIALS_KEY_ID: 'test1',
        SMS_CIRCUIT_FAILURE_THRESHOLD: '2',
        SMS_CIRCUIT_COOLDOWN_MS: '3600000',
        SMS_RETRY_BASE_MS: '50',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
    await forgetProviderAccounts(started);
  });

  it('checks on save, stores nothing when the check fails (400), and never returns a secret', async () => {
    const refused = await put(adminA, 'twilio', {
      account_sid: FAKE_TWILIO_SID_2,
      auth_token: 'not-the-right-token-at-all',
      phone_number: '+15005550006',
    }).expect(400);
    expect(refused.body.message).toMatch(/did not pass the check.*twilio:auth/);
    expect((await accounts(adminA).expect(200)).body.accounts).toEqual([]);

    snsFake.refusedKeys.add('AKIAREFUSEDREFUSED');
    const snsRefused = await put(adminA, 'sns', {
      access_key_id: 'AKIAREFUSEDREFUSED',
      secret_access_key: 'whatever-secret-key',
      region: 'eu-west-1',
    }).expect(400);
    expect(snsRefused.body.message).toMatch(/InvalidClientTokenId/);
    expect((await accounts(adminA).expect(200)).body.accounts).toEqual([]);

    // A field of the other provider, a missing sender: 400 naming the field.
    const bad = await put(adminA, 'twilio', {
      account_sid: FAKE_TWILIO_SID_2,
      auth_token: FAKE_TWILIO_TOKEN_2,
      region: 'x',
    }).expect(400);
    expect(JSON.stringify(bad.body.details)).toContain('region');
    expect(JSON.stringify(bad.body.details)).toContain('phone_number');

    const saved = await put(adminA, 'twilio', {
      account_sid: FAKE_TWILIO_SID_2,
      auth_token: FAKE_TWILIO_TOKEN_2,
      phone_number: '+15005550006',
    }).expect(200);
    expect(saved.body).toMatchObject({
      provider: 'twilio',
      key_id: 'test1',
      shown: { account_sid_last4: '2222', auth_token_last4: '2222', phone_number: '+15005550006' },
    });
    // The check was the account resource of that account, with its own credentials.
    expect(
      twilioFake.requests.some(
        (r) => r.method === 'GET' && r.path === `/2010-04-01/Accounts/${FAKE_TWILIO_SID_2}.json`,
      ),
    ).toBe(true);
    await put(adminB, 'twilio', {
      account_sid: FAKE_TWILIO_SID_3,
      auth_token: FAKE_TWILIO_TOKEN_3,
      phone_number: '+15005550006',
    }).expect(200);
    const listed = await accounts(adminA).expect(200);
    expect(listed.body.accounts).toHaveLength(1);
    const everything = JSON.stringify([saved.body, listed.body, (await accounts(adminB)).body]);
    for (const secret of [FAKE_TWILIO_TOKEN_2, FAKE_TWILIO_TOKEN_3, FAKE_TWILIO_SID_2, 'whatever-secret-key'])
      expect(everything).not.toContain(secret);

    // Audited, without any secret.
    const audit = await t
      .get(DataSource)
      .query(
        `SELECT action, before, after FROM sms_audit_log WHERE target_type = 'provider_account' AND tenant_id = $1`,
        [tenantA],
      );
    expect(audit).toEqual([expect.objectContaining({ action: 'provider_account.set', before: null })]);
    // Even the last 4 characters are redacted there (the audit trail redacts secret-looking keys).
    expect(audit[0].after).toMatchObject({ provider: 'twilio', shown: { phone_number: '+15005550006' } });
    expect(JSON.stringify(audit)).not.toContain(FAKE_TWILIO_TOKEN_2);
    // Stored sealed: the token is nowhere in the row.
    const rows = await t
      .get(DataSource)
      .query(`SELECT * FROM sms_provider_accounts WHERE tenant_id = $1`, [tenantA]);
    expect(JSON.stringify(rows)).not.toContain(FAKE_TWILIO_TOKEN_2);
    expect(Buffer.concat([rows[0].ciphertext, rows[0].wrapped_key]).toString('latin1')).not.toContain(
      FAKE_TWILIO_TOKEN_2,
    );
    expect(logs.text()).not.toContain(FAKE_TWILIO_TOKEN_2);
  });

  it("answers 404 to another tenant's admin", async () => {
    await accounts(adminB, tenantA).expect(404);
    await put(
      adminB,
      'twilio',
      { account_sid: FAKE_TWILIO_SID_3, auth_token: FAKE_TWILIO_TOKEN_3, phone_number: '+15005550006' },
      tenantA,
    ).expect(404);
    await t
      .http()
      .delete(`/api/sms/tenants/${tenantA}/provider-accounts/twilio`)
      .set(t.auth(adminB))
      .expect(404);
    await accounts({ tenant: tenantA, roles: ['user'] }).expect(403);
  });

  it("one tenant's account down leaves the other tenant and the operator unaffected", async () => {
    twilioFake.failAccount(FAKE_TWILIO_SID_3, twilioError(500, 20500, 'Internal Server Error'));
    // Tenant B's messages fail on its own account until its circuit opens.
    const b1 = await send(tenantB, 'b one');
    await send(tenantB, 'b two');
    await eventually(
      async () => {
        const res = await accounts(adminB);
        return res.body.accounts[0]?.circuit?.state === 'open' ? true : undefined;
      },
      15_000,
      "tenant B's circuit to open",
    );

    const a = await send(tenantA, 'a goes through its own account');
    const sentA = await waitForStatus(t, { tenant: tenantA }, a, 'sent');
    const atA = twilioFake.sentBy(FAKE_TWILIO_SID_2).find((m) => m.sid === sentA.provider_message_id);
    expect(atA?.statusCallback).toMatch(/\/api\/sms\/webhooks\/twilio\/status\?account=\d+$/);
    expect((await accounts(adminA)).body.accounts[0].circuit).toMatchObject({ state: 'closed' });
    // Nothing of A's or B's went through the operator's account.
    expect(twilioFake.sentBy(FAKE_TWILIO_SID)).toEqual([]);

    // The operator's circuit is closed and readiness is not degraded. Readiness also reads the
    // down flags every sending process publishes (6 s TTL): an earlier suite of the run may have
    // left one, so wait it out; a tenant account publishing the operator's flag would refresh it
    // every 2 s and never let this pass.
    const ready = await eventually(
      async () => {
        const r = await t.http().get('/health/ready').expect(200);
        return r.body.status === 'ok' ? r : undefined;
      },
      15_000,
      'readiness not degraded',
    );
    expect(ready.body.details.providers.circuits.twilio.state).toBe('closed');
    expect(ready.body.details.providers.down).toEqual([]);

    // The operator's own tenants still send through the operator's account.
    const other = freshTenantId();
    const o = await send(other, 'operator account');
    const sentO = await waitForStatus(t, { tenant: other }, o, 'sent');
    expect(twilioFake.sentBy(FAKE_TWILIO_SID).map((m) => m.sid)).toEqual([sentO.provider_message_id]);

    // B's message was never handed to the operator's account either.
    const statusB = await t
      .http()
      .get(`/api/sms/messages/${b1}/status`)
      .set(t.auth({ tenant: tenantB }));
    expect(statusB.body.status).not.toBe('sent');
  });

  it('verifies each status callback with its own account token', async () => {
    const a = await send(tenantA, 'callback for A');
    const sent = await waitForStatus(t, { tenant: tenantA }, a, 'sent');
    const m = twilioFake.sentBy(FAKE_TWILIO_SID_2).find((x) => x.sid === sent.provider_message_id);
    const url = m?.statusCallback as string;
    const path = url.slice(PUBLIC_BASE_URL.length);
    const params = { MessageSid: sent.provider_message_id, MessageStatus: 'delivered' };
    const post = (token: string) =>
      t
        .http()
        .post(path)
        .type('form')
        .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(token, url, params))
        .send(new URLSearchParams(params).toString());
    // Signed with another tenant's token, or the operator's: refused.
    await post(FAKE_TWILIO_TOKEN_3).expect(403);
    await post(FAKE_TWILIO_TOKEN).expect(403);
    // Signed with the account's own token: applied.
    await post(FAKE_TWILIO_TOKEN_2).expect(204);
    await waitForStatus(t, { tenant: tenantA }, a, 'delivered');
    // The operator's URL still takes the operator's token, and an unknown account is 404.
    const opParams = { MessageSid: `SM${'ab12'.repeat(8)}`, MessageStatus: 'delivered' };
    const opUrl = `${PUBLIC_BASE_URL}/api/sms/webhooks/twilio/status`;
    await t
      .http()
      .post('/api/sms/webhooks/twilio/status')
      .type('form')
      .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(FAKE_TWILIO_TOKEN_2, opUrl, opParams))
      .send(new URLSearchParams(opParams).toString())
      .expect(403);
    await t
      .http()
      .post('/api/sms/webhooks/twilio/status?account=999999999')
      .type('form')
      .send('a=b')
      .expect(404);
  });

  it("asks the tenant's own account about its messages (status job)", async () => {
    const a = await send(tenantA, 'no callback for A');
    const sent = await waitForStatus(t, { tenant: tenantA }, a, 'sent');
    twilioFake.setStatus(sent.provider_message_id, 'delivered', '-0.00650');
    await t
      .get(DataSource)
      .query(`UPDATE sms_messages SET sent_at = now() - interval '20 minutes' WHERE id = $1`, [a]);
    const before = twilioFake.requests.length;
    await t.get(StatusJob).run();
    const asked = twilioFake.requests.slice(before).filter((r) => r.path.includes(sent.provider_message_id));
    // Only through the tenant's account (the operator's would not know the message).
    expect(asked.length).toBeGreaterThanOrEqual(1);
    for (const r of asked) expect(r.path).toContain(FAKE_TWILIO_SID_2);
    const status = await waitForStatus(t, { tenant: tenantA }, a, 'delivered');
    expect(status.cost).toBe(0.0065);
  });

  it("sends an SNS account's messages with its own key and origination identity", async () => {
    const tenantC = freshTenantId();
    const adminC = { tenant: tenantC, roles: ['admin'] };
    const saved = await put(adminC, 'sns', {
      access_key_id: 'AKIATENANTCCCCCCCCC',
      secret_access_key: 'tenant-c-secret-access-key',
      region: 'eu-west-1',
      origination_identity: 'OKULUM',
    }).expect(200);
    expect(saved.body.shown).toEqual({
      access_key_id_last4: 'CCCC',
      secret_access_key_last4: '-key',
      region: 'eu-west-1',
      origination_identity: 'OKULUM',
    });
    const id = await send(tenantC, 'through my own AWS account');
    await waitForStatus(t, { tenant: tenantC }, id, 'sent');
    const published = snsFake.published.filter((m) => m.message === 'through my own AWS account');
    expect(published).toEqual([
      expect.objectContaining({
        accessKeyId: 'AKIATENANTCCCCCCCCC',
        attributes: expect.objectContaining({ 'AWS.SNS.SMS.SenderID': 'OKULUM' }),
      }),
    ]);
  });

  it("holds a tenant's messages when its account cannot be opened, never using the operator's", async () => {
    const tenantD = freshTenantId();
    await put({ tenant: tenantD, roles: ['admin'] }, 'twilio', {
      account_sid: FAKE_TWILIO_SID_2,
      auth_token: FAKE_TWILIO_TOKEN_2,
      phone_number: '+15005550006',
    }).expect(200);
    // As after a key was dropped too early: the record names a key this service does not have.
    await t
      .get(DataSource)
      .query(`UPDATE sms_provider_accounts SET key_id = 'gone', version = version + 1 WHERE tenant_id = $1`, [
        tenantD,
      ]);
    const before = twilioFake.sent.length;
    const id = await send(tenantD, 'must not leave through the operator');
    const held = await eventually(async () => {
      const res = await t
        .http()
        .get(`/api/sms/messages/${id}/status`)
        .set(t.auth({ tenant: tenantD }));
      return JSON.stringify(res.body).includes('account_unavailable') ? res.body : undefined;
    });
    expect(held.status).not.toBe('sent');
    expect(held).toMatchObject({ status: 'queued', attempts: 0, error_code: 'account_unavailable' });
    expect(twilioFake.sent.slice(before).filter((m) => m.body.includes('must not leave'))).toEqual([]);
  });

  it("after DELETE the tenant's messages go through the operator's account again (audited)", async () => {
    await t
      .http()
      .delete(`/api/sms/tenants/${tenantA}/provider-accounts/twilio`)
      .set(t.auth(adminA))
      .expect(204);
    expect((await accounts(adminA)).body.accounts).toEqual([]);
    await t
      .http()
      .delete(`/api/sms/tenants/${tenantA}/provider-accounts/twilio`)
      .set(t.auth(adminA))
      .expect(404);
    // Each process re-reads the accounts within seconds (ACCOUNT_CHECK_MS).
    await eventually(
      async () => {
        const id = await send(tenantA, 'back to the operator');
        const s = await waitForStatus(t, { tenant: tenantA }, id, 'sent');
        return twilioFake.sentBy(FAKE_TWILIO_SID).some((m) => m.sid === s.provider_message_id)
          ? true
          : undefined;
      },
      15_000,
      'a message through the operator account',
    );
    const audit = await t
      .get(DataSource)
      .query(
        `SELECT action FROM sms_audit_log WHERE target_type = 'provider_account' AND tenant_id = $1 ORDER BY at`,
        [tenantA],
      );
    expect(audit.map((r: { action: string }) => r.action)).toEqual([
      'provider_account.set',
      'provider_account.delete',
    ]);
  });
});

describe("tenants' own provider accounts: key rotation", () => {
  const twilioFake = new FakeTwilio();
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');
  const tenant = freshTenantId();
  const admin = { tenant, roles: ['admin'] };
  let base: string;
  const boot = async (keys: Record<string, string>) =>
    createTestApp({
      env: {
        TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
        TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
        TWILIO_PHONE_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: base,
        SMS_PROVIDERS: 'twilio',
        PUBLIC_BASE_URL,
        ...keys,
      },
    });

  beforeAll(async () => {
    base = await twilioFake.start();
    twilioFake.addAccount(FAKE_TWILIO_SID_2, FAKE_TWILIO_TOKEN_2);
  });
  afterAll(async () => {
    await twilioFake.stop();
    await forgetProviderAccounts(started);
  });

  it('reads records under the old key, re-wraps them under the new one at start, and keeps sending', async () => {
    const first = await boot({ PROVIDER_CREDENTIALS_KEY: k1, PROVIDER_CREDENTIALS_KEY_ID: 'old' });
    try {
      await first
        .http()
        .put(`/api/sms/tenants/${tenant}/provider-accounts/twilio`)
        .set(first.auth(admin))
        .send({
          account_sid: FAKE_TWILIO_SID_2,
          auth_token: FAKE_TWILIO_TOKEN_2,
          phone_number: '+15005550006',
        })
        .expect(200);
    } finally {
      await first.close();
    }
    const second = await boot({
      PROVIDER_CREDENTIALS_KEY: k2,
      PROVIDER_CREDENTIALS_KEY_ID: 'new',
      PROVIDER_CREDENTIALS_OLD_KEYS: `old:${k1}`,
    });
    try {
      const rows = await second
        .get(DataSource)
        .query('SELECT key_id FROM sms_provider_accounts WHERE tenant_id = $1', [tenant]);
      expect(rows).toEqual([{ key_id: 'new' }]);
      const res = await second
        .http()
        .post('/api/sms/send')
        .set(second.auth({ tenant }))
        .send({ phone_number: '+12025550123', message: 'after rotation' })
        .expect(202);
      const sent = await waitForStatus(second, { tenant }, res.body.message_id, 'sent');
      expect(twilioFake.sentBy(FAKE_TWILIO_SID_2).map((m) => m.sid)).toContain(sent.provider_message_id);
    } finally {
      await second.close();
    }
    // Without the old key, a record still under it would not open: the new key alone reads it now.
    const third = await boot({ PROVIDER_CREDENTIALS_KEY: k2, PROVIDER_CREDENTIALS_KEY_ID: 'new' });
    try {
      const res = await third
        .http()
        .post('/api/sms/send')
        .set(third.auth({ tenant }))
        .send({ phone_number: '+12025550123', message: 'old key dropped' })
        .expect(202);
      await waitForStatus(third, { tenant }, res.body.message_id, 'sent');
    } finally {
      await third.close();
    }
  });
});
