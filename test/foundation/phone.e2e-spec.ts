import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

describe('POST /api/sms/validate-phone', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const check = (body: object) =>
    t
      .http()
      .post('/api/sms/validate-phone')
      .set(t.auth({ tenant: freshTenantId() }))
      .send(body)
      .expect(200);

  it("formats the brief's example 234-567-8900 (US) as +12345678900", async () => {
    const res = await check({ phone_number: '234-567-8900', country_code: 'US' });
    expect(res.body).toMatchObject({ valid: true, e164: '+12345678900', country: 'US' });
    expect(res.body.national_format).toEqual(expect.any(String));
    expect(res.body.international_format).toEqual(expect.any(String));
  });

  it('falls back to DEFAULT_COUNTRY_CODE when country_code is absent', async () => {
    const res = await check({ phone_number: '202-555-0123' });
    expect(res.body).toMatchObject({ valid: true, e164: '+12025550123' });
  });

  it("reports the brief's +1234567890 as not valid, with a reason", async () => {
    const res = await check({ phone_number: '+1234567890' });
    expect(res.body).toEqual({ valid: false, reason: expect.any(String) });
  });

  it('formats a Turkish mobile number written nationally', async () => {
    const res = await check({ phone_number: '0532 123 45 67', country_code: 'TR' });
    expect(res.body).toMatchObject({ valid: true, e164: '+905321234567', country: 'TR', type: 'MOBILE' });
  });

  it('says why a number is not a number', async () => {
    const res = await check({ phone_number: 'call me maybe' });
    expect(res.body).toEqual({ valid: false, reason: 'not_a_number' });
  });
});
