import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/**
 * SMS pumping (issue 8, item 6): the tenants API's side of the destination rules. The rules
 * themselves (allowed countries, premium-rate and shared-cost numbers, code velocity per range)
 * are tested on the accept path in test/medium/messaging/pumping.medium-spec.ts.
 */
describe('SMS pumping defences', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
  });
  afterAll(() => t.close());

  const operator = () => t.auth({ tenant: 1, roles: ['super_admin'] });
  const send = (who: { tenant: number }, phone_number: string) =>
    t.http().post('/api/sms/send').set(t.auth(who)).send({ phone_number, message: 'Session moved' });

  describe('destination country allow-list', () => {
    it('validates allowed_countries: known upper-case ISO codes, or "*" alone', async () => {
      const tenant = freshTenantId();
      for (const bad of [[], ['XX'], ['us'], ['USA'], ['*', 'US'], 'US', [7]]) {
        const res = await t
          .http()
          .post('/api/sms/tenants')
          .set(operator())
          .send({ id: tenant, name: 'x', settings: { allowed_countries: bad } })
          .expect(400);
        expect(JSON.stringify(res.body.details)).toContain('allowed_countries');
      }
      await t
        .http()
        .post('/api/sms/tenants')
        .set(operator())
        .send({ id: tenant, name: 'x', settings: { allowed_countries: ['US', 'TR', 'GB'] } })
        .expect(201);
      const reset = await t
        .http()
        .patch(`/api/sms/tenants/${tenant}`)
        .set(operator())
        .send({ settings: { allowed_countries: null } })
        .expect(200);
      expect(reset.body.settings.allowed_countries).toBeNull();
      await send({ tenant }, '+905321234567').expect(400);
    });
  });
});
