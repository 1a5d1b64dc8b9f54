import { allowCountries } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';

/**
 * The dashboard's read-only views of issue 23 items 2 and 3 (docs/privacy.md): a tenant's body
 * retention and promotional-consent rule, and one number's consent with its history.
 */
describe('privacy: settings and one number’s consent', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SMS_BODY_RETENTION_DAYS: '45' } });
  });
  afterAll(() => t.close());

  const operator = { tenant: 1, roles: ['super_admin'] };
  const settings = (who: TokenOptions, headers: Record<string, string> = {}) =>
    t
      .http()
      .get('/api/sms/privacy/settings')
      .set({ ...t.auth(who), ...headers });
  const lookup = (who: TokenOptions, phone_number?: string) =>
    t
      .http()
      .get('/api/sms/consent')
      .set(t.auth(who))
      .query(phone_number === undefined ? {} : { phone_number });

  it('answers the effective retention and consent rule of the caller’s tenant only', async () => {
    const own = freshTenantId();
    const plain = freshTenantId();
    await allowCountries(t, own, ['TR'], { body_retention_days: 7, promotional_consent: 'required' });

    await settings({ tenant: own, roles: ['admin'] })
      .expect(200)
      .expect({ body_retention_days: 7, body_retention_source: 'tenant', promotional_consent: 'required' });
    // No setting of its own: the service default (SMS_BODY_RETENTION_DAYS), Turkish numbers only.
    await settings({ tenant: plain, roles: ['admin'] })
      .expect(200)
      .expect({ body_retention_days: 45, body_retention_source: 'default', promotional_consent: null });
    // A super_admin reads the tenant it acts for; an admin cannot pick another tenant.
    await settings(operator, { 'X-Tenant-Id': String(own) })
      .expect(200)
      .expect((r) => expect(r.body.body_retention_days).toBe(7));
    await settings({ tenant: plain, roles: ['admin'] }, { 'X-Tenant-Id': String(own) }).expect(403);
    // A plain user is not an admin.
    await settings({ tenant: own, roles: ['user'] }).expect(403);
  });

  it('looks up one number’s consent and history in this tenant only; a bad number is a 400', async () => {
    const a = freshTenantId();
    const b = freshTenantId();
    const adminA = { tenant: a, user: 'dpo', roles: ['admin'] };
    const adminB = { tenant: b, roles: ['admin'] };
    const phone = '+905321239001';
    await allowCountries(t, a, ['TR']);
    await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(adminA))
      .send({
        recipients: [
          {
            user_id: 'p1',
            phone_number: phone,
            consent: { sms: { status: 'granted', source: 'HS_WEB', at: '2026-12-01T09:30:00+03:00' } },
          },
        ],
      })
      .expect(200);
    await t
      .http()
      .put('/api/sms/recipients/p1/consent')
      .set(t.auth(adminA))
      .send({ sms: { status: 'revoked', source: 'HS_CAGRI_MERKEZI', at: '2026-12-02T10:00:00+03:00' } })
      .expect(200);

    const found = await lookup(adminA, '+90 532 123 90 01').expect(200);
    expect(found.body).toEqual({
      phone_number: phone,
      consent: { sms: { status: 'revoked', source: 'HS_CAGRI_MERKEZI', at: '2026-12-02T07:00:00.000Z' } },
      promotional_consent_required: true,
      history: [
        expect.objectContaining({
          channel: 'sms',
          status: 'granted',
          source: 'HS_WEB',
          at: '2026-12-01T06:30:00.000Z',
          actor: 'dpo',
        }),
        expect.objectContaining({ status: 'revoked', source: 'HS_CAGRI_MERKEZI', actor: 'dpo' }),
      ],
    });
    expect(found.body.history[0].recorded_at).toEqual(expect.any(String));

    // Another tenant sees nothing of it: unknown, no history.
    await lookup(adminB, phone)
      .expect(200)
      .expect((r) =>
        expect(r.body).toEqual({
          phone_number: phone,
          consent: { sms: { status: 'unknown', source: null, at: null } },
          promotional_consent_required: true,
          history: [],
        }),
      );
    // A US number needs no consent under the default rule.
    await lookup(adminA, '+12025550123')
      .expect(200)
      .expect((r) => expect(r.body.promotional_consent_required).toBe(false));

    for (const bad of ['not a number', undefined]) {
      const r = await lookup(adminA, bad).expect(400);
      expect(JSON.stringify(r.body)).toContain('phone_number');
    }
    await lookup({ tenant: a, roles: ['user'] }, phone).expect(403);
  });
});
