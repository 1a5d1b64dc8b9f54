import { SweeperService } from '../../src/messaging';
import { DeliveryQueue } from '../../src/messaging/delivery/delivery-queue';
import { FakeSns } from '../fakes/fake-sns';
import { allowCountries } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/** What reaches SNS as AWS.SNS.SMS.SMSType, per kind of message (real SDK, fake SNS). */
describe('SNS SMSType follows the template', () => {
  const sns = new FakeSns();
  let t: TestApp;
  const admin = { tenant: freshTenantId(), roles: ['admin'] };

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        SMS_PROVIDERS: 'sns',
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret',
        AWS_REGION: 'us-east-1',
        AWS_SNS_ENDPOINT: await sns.start(),
      },
    });
    await t.get(SweeperService).recoverLostJobs();
    await allowCountries(t, admin.tenant, ['US']);
    const template = (id: string, transactional?: boolean) => ({
      template_id: id,
      name: id,
      content_en: 'Hello {{name}}',
      message_type: id,
      variables: ['name'],
      ...(transactional === undefined ? {} : { transactional }),
    });
    for (const body of [template('shift_change', true), template('spring_offer')])
      await t.http().post('/api/sms/templates').set(t.auth(admin)).send(body).expect(201);
  });
  afterAll(async () => {
    await t.close();
    await sns.stop();
  });

  const smsTypeOf = (phone: string) =>
    eventually(
      async () => sns.published.find((p) => p.phoneNumber === phone)?.smsType,
      10_000,
      `SMS to ${phone}`,
    );

  const sendTemplated = (templateId: string, phone: string) =>
    t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(admin))
      .send({ phone_number: phone, template_id: templateId, variables: { name: 'Ann' } })
      .expect(202);

  it('a custom type whose template says transactional: true goes as Transactional', async () => {
    await sendTemplated('shift_change', '+12025550201');
    expect(await smsTypeOf('+12025550201')).toBe('Transactional');
  });

  it('a custom type without it goes as Promotional', async () => {
    await sendTemplated('spring_offer', '+12025550202');
    expect(await smsTypeOf('+12025550202')).toBe('Promotional');
  });

  it('codes go as Transactional, a general notification as Promotional', async () => {
    await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth({ tenant: admin.tenant, user: 'u1' }))
      .send({ phone_number: '+12025550203', purpose: 'password_reset' })
      .expect(202);
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({
        phone_number: '+12025550204',
        message: 'Open day on Friday',
        message_type: 'general_notification',
      })
      .expect(202);
    expect(await smsTypeOf('+12025550203')).toBe('Transactional');
    expect(await smsTypeOf('+12025550204')).toBe('Promotional');
  });

  it('keeps the flag when the sweeper re-queues the message (its job was lost)', async () => {
    const queue = t.get(DeliveryQueue).queue;
    await queue.pause(true, true);
    try {
      const res = await sendTemplated('shift_change', '+12025550205');
      const id = res.body.message_id as string;
      const job = await eventually(async () => (await queue.getJob(id)) ?? undefined);
      await job.remove();
      await t.get(SweeperService).requeue([id]);
    } finally {
      await queue.resume(true);
    }
    expect(await smsTypeOf('+12025550205')).toBe('Transactional');
  });

  it("a campaign's messages carry its template's flag", async () => {
    const recipients = [
      { user_id: 'c1', phone_number: '+12025550211', roles: ['staff'], attributes: { name: 'Ann' } },
    ];
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients }).expect(200);
    for (const templateId of ['shift_change', 'spring_offer']) {
      const c = await t
        .http()
        .post('/api/sms/campaigns')
        .set(t.auth(admin))
        .send({ name: templateId, template_id: templateId, recipient_filters: { roles: ['staff'] } })
        .expect(201);
      await t.http().post(`/api/sms/campaigns/${c.body.campaign_id}/execute`).set(t.auth(admin)).expect(202);
    }
    const types = await eventually(async () => {
      const sent = sns.published.filter((p) => p.phoneNumber === '+12025550211');
      return sent.length === 2 ? sent.map((p) => p.smsType).sort() : undefined;
    });
    expect(types).toEqual(['Promotional', 'Transactional']);
  });
});
