import { SmsRouter } from '../../src/providers';
import { allowCountries } from '../support/tenants';
import { TestApp, TokenOptions } from '../support/test-app';

/** A custom promotional type: what a campaign usually sends. */
export const newsTemplate = {
  template_id: 'monthly_news',
  name: 'Monthly news',
  content_en: 'Hello {{name}}, this month at the centre: {{topic}}.',
  message_type: 'monthly_news',
  variables: ['name', 'topic'],
};

/** +1 202 555 xxxx: n distinct valid US numbers (n ≤ 10,000). */
export const usNumber = (i: number) => `+1202555${String(i).padStart(4, '0')}`;

/** A tenant (admin token) with the news template and `n` beneficiaries, uploaded 10,000 at a time. */
export async function tenantWithAudience(t: TestApp, tenant: number, n: number): Promise<TokenOptions> {
  const admin = { tenant, roles: ['admin'] };
  await allowCountries(t, tenant, ['US']);
  await t.http().post('/api/sms/templates').set(t.auth(admin)).send(newsTemplate).expect(201);
  for (let from = 0; from < n; from += 10_000) {
    const recipients = Array.from({ length: Math.min(10_000, n - from) }, (_, k) => ({
      user_id: `u${String(from + k).padStart(6, '0')}`,
      phone_number: usNumber(from + k),
      roles: ['beneficiary'],
      attributes: { name: `N${from + k}` },
    }));
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients }).expect(200);
  }
  return admin;
}

/** Creates and executes a campaign of the news template to every beneficiary; its id. */
export async function runCampaign(t: TestApp, admin: TokenOptions): Promise<string> {
  const c = await t
    .http()
    .post('/api/sms/campaigns')
    .set(t.auth(admin))
    .send({
      name: 'News',
      template_id: newsTemplate.template_id,
      recipient_filters: { roles: ['beneficiary'] },
      variables: { topic: 'open day' },
    })
    .expect(201);
  await t.http().post(`/api/sms/campaigns/${c.body.campaign_id}/execute`).set(t.auth(admin)).expect(202);
  return c.body.campaign_id;
}

/** Every provider hand-over of this app (the router's send), with when it happened. */
export interface HandOver {
  messageId: string;
  tenantId: number;
  messageType: string;
  at: number;
}

export function recordHandOvers(t: TestApp): HandOver[] {
  const seen: HandOver[] = [];
  const router = t.get(SmsRouter).router;
  const send = router.send.bind(router);
  jest.spyOn(router, 'send').mockImplementation((sms) => {
    seen.push({
      messageId: sms.messageId,
      tenantId: sms.tenantId,
      messageType: sms.messageType,
      at: Date.now(),
    });
    return send(sms);
  });
  return seen;
}
