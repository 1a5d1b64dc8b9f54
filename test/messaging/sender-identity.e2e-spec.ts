import { FakeTwilio } from '../fakes/fake-twilio';
import { FakeSns } from '../fakes/fake-sns';
import { cancelLeftoverMessages, waitForStatus } from '../support/messages';
import { allowCountries, NO_CONSENT_NEEDED } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';
import { fakeSnsEnv, fakeTwilioEnv } from '../fakes/provider-env';

const SID = 'MG' + '0123456789abcdef'.repeat(2);
const TR = '+905321234567';
const US = '+12025550123';
const DE = '+4915123456789';
const DEFAULT_FROM = '+15005550006';

interface AuditEntry {
  action: string;
  before: { settings?: Record<string, unknown> } | null;
  after: { settings?: Record<string, unknown> } | null;
}

/** Issue 22 item 5: per-country sender identity, from the tenant's settings to the provider's wire. */
describe('sender identity (real SDKs, fake Twilio and SNS)', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  let t: TestApp;
  const tenant = freshTenantId();
  const other = freshTenantId();
  const admin = { tenant, user: 'boss', roles: ['admin'] };
  const operator = { tenant: 1, user: 'root', roles: ['super_admin'] };
  const senders = {
    TR: { alphanumeric: 'OKULUM' },
    US: { number: '+12025550100' },
    '*': { messaging_service_sid: SID },
  };

  beforeAll(async () => {
    await cancelLeftoverMessages(); // the fakes' calls are counted per number below
    t = await createTestApp({
      env: {
        ...fakeTwilioEnv(await twilioFake.start()),
        TWILIO_PHONE_NUMBER: DEFAULT_FROM,
        ...fakeSnsEnv(await snsFake.start()),
        SMS_CIRCUIT_FAILURE_THRESHOLD: '100',
      },
    });
    await allowCountries(t, tenant, ['US', 'TR', 'DE'], NO_CONSENT_NEEDED);
    await allowCountries(t, other, ['US', 'TR']);
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });
  beforeEach(() => {
    twilioFake.reset();
    snsFake.reset();
  });

  const putSenders = (who: object, id: number, body: unknown) =>
    t
      .http()
      .put(`/api/sms/tenants/${id}/senders`)
      .set(t.auth(who as never))
      .send(body as object);
  const tenantAudit = async (): Promise<AuditEntry[]> =>
    (
      await t
        .http()
        .get('/api/sms/audit')
        .query({ target_type: 'tenant', action: 'tenant.update' })
        .set(t.auth(admin))
        .expect(200)
    ).body.items;
  const sendBulk = async (who: object, numbers: string[]) => {
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who as never))
      .send({ phone_numbers: numbers, message: 'Exam results are out' })
      .expect(202);
    expect(res.body.accepted).toBe(numbers.length);
    return { batchId: res.body.batch_id as string, ids: res.body.message_ids as string[] };
  };
  const twilioTo = (to: string) =>
    eventually(async () => twilioFake.sent.find((m) => m.to === to), 10_000, `Twilio message to ${to}`);
  const snsTo = (to: string) =>
    eventually(
      async () => snsFake.published.find((m) => m.phoneNumber === to),
      10_000,
      `SNS message to ${to}`,
    );

  describe('the setting', () => {
    it.each([
      ['an alphanumeric sender for the US', { US: { alphanumeric: 'OKULUM' } }, 'senders.US.alphanumeric'],
      ['12 characters', { TR: { alphanumeric: 'OKULUMOKULUM' } }, 'senders.TR.alphanumeric'],
      ['a bad country key', { TUR: { alphanumeric: 'OKULUM' } }, 'senders.TUR'],
      ['a malformed Messaging Service SID', { '*': { messaging_service_sid: 'MG12' } }, 'senders.*'],
      ['a number that is not E.164', { TR: { number: '05321234567' } }, 'senders.TR.number'],
    ])('refuses %s with a 400 naming the field, and records nothing', async (_what, value, named) => {
      const before = (await tenantAudit()).length;
      const res = await putSenders(admin, tenant, { senders: value }).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, details: [{ field: 'senders' }] });
      expect(res.body.message).toContain(named);
      const viaPatch = await t
        .http()
        .patch(`/api/sms/tenants/${tenant}`)
        .set(t.auth(operator))
        .send({ settings: { senders: value } })
        .expect(400);
      expect(viaPatch.body.details).toEqual([
        expect.objectContaining({ field: 'settings.senders', errors: [expect.stringContaining(named)] }),
      ]);
      const now = await t.http().get(`/api/sms/tenants/${tenant}/senders`).set(t.auth(admin)).expect(200);
      expect(now.body).toEqual({ senders: null });
      expect(await tenantAudit()).toHaveLength(before);
    });

    it('is set by an admin of the tenant or a super_admin, and each change is audited with before and after', async () => {
      const first = { TR: { alphanumeric: 'OKUL' } };
      await t
        .http()
        .patch(`/api/sms/tenants/${tenant}`)
        .set(t.auth(operator))
        .send({ settings: { senders: first } })
        .expect(200);
      const res = await putSenders(admin, tenant, { senders }).expect(200);
      expect(res.body).toEqual({ senders });
      const read = await t.http().get(`/api/sms/tenants/${tenant}/senders`).set(t.auth(admin)).expect(200);
      expect(read.body).toEqual({ senders });
      const [latest, previous] = await tenantAudit();
      expect(previous.before?.settings?.senders).toBeUndefined();
      expect(previous.after?.settings?.senders).toEqual(first);
      expect(latest.before?.settings).toMatchObject({
        senders: first,
        allowed_countries: ['US', 'TR', 'DE'],
      });
      expect(latest.after?.settings).toMatchObject({ senders, allowed_countries: ['US', 'TR', 'DE'] });
    });

    it("is another tenant's business: its admins get 404, users 403, and its settings stay as they were", async () => {
      await putSenders({ tenant: other, roles: ['admin'] }, tenant, { senders: {} }).expect(404);
      await t
        .http()
        .get(`/api/sms/tenants/${tenant}/senders`)
        .set(t.auth({ tenant: other, roles: ['admin'] }))
        .expect(404);
      await putSenders({ tenant, user: 'clerk' }, tenant, { senders: {} }).expect(403);
      const otherTenant = await t.http().get(`/api/sms/tenants/${other}`).set(t.auth(operator)).expect(200);
      expect(otherTenant.body.settings).toEqual({ allowed_countries: ['US', 'TR'] });
    });
  });

  describe('on the wire', () => {
    beforeAll(async () => {
      await putSenders(admin, tenant, { senders }).expect(200);
    });

    it("reaches Twilio as From (alphanumeric or number) or MessagingServiceSid, per recipient's country, and shows in status and history", async () => {
      const { batchId, ids } = await sendBulk(admin, [TR, US, DE]);
      expect(await twilioTo(TR)).toMatchObject({ from: 'OKULUM', mss: null });
      expect(await twilioTo(US)).toMatchObject({ from: '+12025550100', mss: null });
      const de = await twilioTo(DE);
      expect(de.mss).toBe(SID);
      expect(de.from).toBeUndefined();

      const statuses = await Promise.all(ids.map((id) => waitForStatus(t, admin, id, 'sent')));
      expect(statuses.map((s) => s.sender).sort()).toEqual(['+12025550100', 'OKULUM', SID].sort());
      const history = await t
        .http()
        .get('/api/sms/history')
        .query({ batch_id: batchId })
        .set(t.auth(admin))
        .expect(200);
      const byNumber = Object.fromEntries(
        (history.body.items as { phone_number: string; sender: string | null }[]).map((m) => [
          m.phone_number,
          m.sender,
        ]),
      );
      expect(byNumber).toEqual({ [TR]: 'OKULUM', [US]: '+12025550100', [DE]: SID });
    });

    it('reaches SNS (a fallback from Twilio) as AWS.SNS.SMS.SenderID or AWS.MM.SMS.OriginationNumber, and nothing for a Messaging Service SID', async () => {
      twilioFake.answerAlways({
        status: 500,
        contentType: 'application/json',
        body: '{"code":20500,"message":"Internal Server Error","status":500}',
      });
      const { ids } = await sendBulk(admin, [TR, US, DE]);
      const tr = await snsTo(TR);
      expect(tr.attributes['AWS.SNS.SMS.SenderID']).toBe('OKULUM');
      expect(tr.attributes['AWS.MM.SMS.OriginationNumber']).toBeUndefined();
      const us = await snsTo(US);
      expect(us.attributes['AWS.MM.SMS.OriginationNumber']).toBe('+12025550100');
      expect(us.attributes['AWS.SNS.SMS.SenderID']).toBeUndefined();
      const de = await snsTo(DE);
      expect(Object.keys(de.attributes)).toEqual(['AWS.SNS.SMS.SMSType']);
      for (const id of ids) expect((await waitForStatus(t, admin, id, 'sent')).provider).toBe('sns');
    });

    it("leaves another tenant's messages to the provider's configured default", async () => {
      const who = { tenant: other, roles: ['admin'] };
      const { ids } = await sendBulk(who, [US]);
      expect(await twilioTo(US)).toMatchObject({ from: DEFAULT_FROM, mss: null });
      expect((await waitForStatus(t, who, ids[0], 'sent')).sender).toBeNull();
    });
  });
});
