import { DataSource } from 'typeorm';
import { CampaignsService } from '../../src/campaigns';
import { PricingService } from '../../src/messaging/policies/pricing.service';
import { allowCountries } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';
import { newsTemplate, runCampaign } from './campaign-support';

/**
 * One accept path: a campaign passes the same policies as `/send-bulk`. Each rule is tried on both,
 * side by side. Dutch mobiles are priced here (sandbox, 0.0075 a segment) so the cap has something
 * to count; no other suite sends to NL.
 */
const PRICE = 0.0075;
const nl = (i: number) => `+316123${String(i).padStart(5, '0')}`;

describe('campaigns and /send-bulk pass the same accept policies', () => {
  let t: TestApp;
  let ds: DataSource;
  let campaigns: CampaignsService;

  beforeAll(async () => {
    t = await createTestApp();
    ds = t.get(DataSource);
    campaigns = t.get(CampaignsService);
    await ds.query(
      `INSERT INTO sms_prices (provider, country, price_per_segment) VALUES ('sandbox', 'NL', $1)
       ON CONFLICT DO NOTHING`,
      [PRICE],
    );
    await t.get(PricingService).reload();
  });
  afterAll(() => t.close());

  const operator = () => t.auth({ tenant: 1, roles: ['super_admin'] });

  /** A tenant with these settings, the news template and a directory of these numbers (user u0, u1…). */
  async function tenant(settings: Record<string, unknown>, phones: string[]): Promise<TokenOptions> {
    const id = freshTenantId();
    const admin = { tenant: id, roles: ['admin'] };
    await allowCountries(t, id, ['NL']);
    await t.http().patch(`/api/sms/tenants/${id}`).set(operator()).send({ settings }).expect(200);
    await t.http().post('/api/sms/templates').set(t.auth(admin)).send(newsTemplate).expect(201);
    const recipients = phones.map((phone_number, i) => ({
      user_id: `u${i}`,
      phone_number,
      roles: ['beneficiary'],
      attributes: { name: `N${i}` },
    }));
    await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients }).expect(200);
    return admin;
  }

  /** Runs the news campaign to every beneficiary and waits for the campaign job to complete it. */
  async function runToCompletion(admin: TokenOptions) {
    const id = await runCampaign(t, admin);
    return eventually(
      async () => {
        await campaigns.tick();
        const s = await t.http().get(`/api/sms/campaigns/${id}/status`).set(t.auth(admin)).expect(200);
        return s.body.status === 'completed' ? { id, ...s.body } : undefined;
      },
      30_000,
      `campaign ${id} to complete`,
    );
  }

  const handedOver = (s: { sent: number; delivered: number }) => s.sent + s.delivered;

  /** Month-to-date estimates of the tenant's messages, in micro-units (exact). */
  async function spentMicros(tenantId: number): Promise<number> {
    const [{ micros }] = await ds.query(
      `SELECT COALESCE(sum(estimated_cost), 0) * 1000000 AS micros FROM sms_messages
        WHERE tenant_id = $1 AND status <> 'canceled'`,
      [tenantId],
    );
    return Number(micros);
  }

  it('monthly_spend_cap: /send-bulk is refused whole with 402; a campaign sends what fits and skips the rest', async () => {
    const phones = Array.from({ length: 20 }, (_, i) => nl(i));
    const admin = await tenant({ monthly_spend_cap: 0.02 }, phones);
    const bulk = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(admin))
      .send({ phone_numbers: phones, message: 'Open day on Saturday' });
    expect(bulk.status).toBe(402);
    expect(bulk.body.error).toBe('Payment Required');
    expect(await spentMicros(admin.tenant)).toBe(0);

    const status = await runToCompletion(admin);
    // 2 × 0.0075 = 0.015 fits under 0.02; a third would make 0.0225.
    expect(status.skipped).toMatchObject({ spend_cap_reached: 18 });
    expect(handedOver(status)).toBe(2);
    expect(await spentMicros(admin.tenant)).toBe(15_000);
    const messages = await ds.query('SELECT count(*)::int AS n FROM sms_messages WHERE tenant_id = $1', [
      admin.tenant,
    ]);
    expect(messages[0].n).toBe(2);
  });

  it('monthly_spend_cap under concurrency: a campaign racing 12 sends never passes the cap', async () => {
    const phones = Array.from({ length: 20 }, (_, i) => nl(100 + i));
    const cap = 0.05; // room for 6 messages
    const admin = await tenant({ monthly_spend_cap: cap }, phones);
    const sends = Array.from({ length: 12 }, (_, i) =>
      t
        .http()
        .post('/api/sms/send')
        .set(t.auth(admin))
        .send({ phone_number: nl(200 + i), message: `Reminder ${i}` }),
    );
    const [status, ...answers] = await Promise.all([runToCompletion(admin), ...sends]);
    const accepted = answers.filter((a) => a.status === 202).length;
    expect(answers.every((a) => a.status === 202 || a.status === 402)).toBe(true);
    const spent = await spentMicros(admin.tenant);
    expect(spent).toBeLessThanOrEqual(cap * 1e6); // no overshoot at all
    expect(spent).toBe(6 * PRICE * 1e6); // and the room was used: 6 of 32 accepted
    expect(accepted + handedOver(status)).toBe(6);
    expect(status.skipped.spend_cap_reached).toBe(20 - handedOver(status));
  });

  it('allowed_countries: /send-bulk rejects a number outside them; a campaign skips it; neither stores it', async () => {
    const us = '+12025550144';
    const admin = await tenant({}, [nl(300), us]);
    const bulk = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(admin))
      .send({ phone_numbers: [nl(301), us], message: 'Open day' })
      .expect(202);
    expect(bulk.body.rejected).toEqual([{ phone_number: us, reason: 'country_not_allowed' }]);

    const status = await runToCompletion(admin);
    expect(status.skipped).toMatchObject({ country_not_allowed: 1 });
    expect(handedOver(status)).toBe(1);
    const rows: { phone_number: string }[] = await ds.query(
      'SELECT phone_number FROM sms_messages WHERE tenant_id = $1 ORDER BY phone_number',
      [admin.tenant],
    );
    expect(rows.map((r) => r.phone_number)).toEqual([nl(300), nl(301)]);
  });
});
