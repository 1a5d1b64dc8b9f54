import { DataSource } from 'typeorm';
import { CampaignsService } from '../../src/campaigns';
import { allowCountries } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';
import { newsTemplate, runCampaign } from './campaign-support';

/**
 * Consent for promotional texts (docs/privacy.md): a promotional campaign or send goes only to
 * numbers whose SMS consent is granted where the tenant requires it (unset: Turkish numbers).
 */
const GRANTED = '+905321230001';
const REVOKED = '+905321230002';
const UNKNOWN = '+905321230003';
const US = '+12025550177';

describe('consent for promotional texts', () => {
  let t: TestApp;
  let ds: DataSource;
  let campaigns: CampaignsService;

  beforeAll(async () => {
    t = await createTestApp();
    ds = t.get(DataSource);
    campaigns = t.get(CampaignsService);
  });
  afterAll(() => t.close());

  const operator = () => t.auth({ tenant: 1, roles: ['super_admin'] });

  /**
   * A tenant with these settings and the news template (a custom type: promotional), and a
   * directory: c1 granted, c2 granted then revoked, c3 never asked, c4 a US number never asked.
   */
  async function tenant(settings: Record<string, unknown> = {}): Promise<TokenOptions> {
    const id = freshTenantId();
    const admin = { tenant: id, roles: ['admin'] };
    await allowCountries(t, id, ['US', 'TR']);
    await t.http().patch(`/api/sms/tenants/${id}`).set(operator()).send({ settings }).expect(200);
    await t.http().post('/api/sms/templates').set(t.auth(admin)).send(newsTemplate).expect(201);
    const entry = (user_id: string, phone_number: string, consent?: object) => ({
      user_id,
      phone_number,
      roles: ['beneficiary'],
      attributes: { name: user_id },
      ...(consent ? { consent } : {}),
    });
    await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(admin))
      .send({
        recipients: [
          entry('c1', GRANTED, {
            sms: { status: 'granted', source: 'HS_WEB', at: '2026-12-01T09:30:00+03:00' },
          }),
          entry('c2', REVOKED, { sms: { status: 'granted', source: 'HS_FIZIKSEL_ORTAM' } }),
          entry('c3', UNKNOWN),
          entry('c4', US),
        ],
      })
      .expect(200);
    await t
      .http()
      .put('/api/sms/recipients/c2/consent')
      .set(t.auth(admin))
      .send({ sms: { status: 'revoked', source: 'HS_WEB' } })
      .expect(200);
    return admin;
  }

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

  const messagedNumbers = async (tenantId: number): Promise<string[]> =>
    (
      await ds.query('SELECT phone_number FROM sms_messages WHERE tenant_id = $1 ORDER BY phone_number', [
        tenantId,
      ])
    ).map((r: { phone_number: string }) => r.phone_number);

  it('a directory entry shows its consent; the per-recipient route sets it, 400 naming the field, 404 elsewhere', async () => {
    const admin = await tenant();
    const c1 = await t.http().get('/api/sms/recipients/c1').set(t.auth(admin)).expect(200);
    expect(c1.body.consent).toEqual({
      sms: { status: 'granted', source: 'HS_WEB', at: '2026-12-01T06:30:00.000Z' },
    });
    const list = await t.http().get('/api/sms/recipients').set(t.auth(admin)).expect(200);
    expect(
      Object.fromEntries(
        list.body.items.map((r: { user_id: string; consent: { sms: { status: string } } }) => [
          r.user_id,
          r.consent.sms.status,
        ]),
      ),
    ).toEqual({ c1: 'granted', c2: 'revoked', c3: 'unknown', c4: 'unknown' });

    const bad = await t
      .http()
      .put('/api/sms/recipients/c3/consent')
      .set(t.auth(admin))
      .send({ sms: { status: 'maybe' } })
      .expect(400);
    expect(bad.body.details).toEqual([{ field: 'sms.status', errors: [expect.stringContaining('granted')] }]);
    const badPut = await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(admin))
      .send({
        recipients: [
          { user_id: 'c9', phone_number: UNKNOWN, consent: { sms: { status: 'granted', at: 'yesterday' } } },
        ],
      })
      .expect(400);
    expect(badPut.body.details[0].field).toBe('recipients[0].consent.sms.at');
    // Nothing of the refused request was stored.
    await t.http().get('/api/sms/recipients/c9').set(t.auth(admin)).expect(404);
    // A row rejected for another reason changes no consent either.
    const rejected = await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(admin))
      .send({
        recipients: [
          { user_id: 'c7', phone_number: US },
          { user_id: 'c8', phone_number: UNKNOWN, roles: [''], consent: { sms: { status: 'granted' } } },
        ],
      })
      .expect(200);
    expect(rejected.body).toEqual({ upserted: 1, rejected: [{ user_id: 'c8', reason: 'invalid_roles' }] });
    expect(
      (await t.http().get('/api/sms/recipients/c3').set(t.auth(admin)).expect(200)).body.consent.sms.status,
    ).toBe('unknown');

    const other = await tenant();
    await t
      .http()
      .put('/api/sms/recipients/nobody/consent')
      .set(t.auth(admin))
      .send({ sms: { status: 'granted' } })
      .expect(404);
    // Another tenant's entry of the same user id is its own: tenant A's change leaves B's alone.
    await t
      .http()
      .put('/api/sms/recipients/c3/consent')
      .set(t.auth(admin))
      .send({ sms: { status: 'granted' } })
      .expect(200);
    const otherC3 = await t.http().get('/api/sms/recipients/c3').set(t.auth(other)).expect(200);
    expect(otherC3.body.consent.sms.status).toBe('unknown');

    const audit = await t
      .http()
      .get('/api/sms/audit')
      .query({ action: 'recipient.consent' })
      .set(t.auth(admin))
      .expect(200);
    expect(audit.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'recipient.consent',
          target_id: 'c3',
          after: { sms: { status: 'granted', source: 'api' } },
        }),
      ]),
    );
  });

  it('a promotional campaign (TR numbers, default setting) texts only granted numbers; the others are skipped no_consent', async () => {
    const admin = await tenant();
    const status = await runToCompletion(admin);
    expect(status.skipped).toMatchObject({ no_consent: 2 });
    // The US number needs no consent by default.
    expect(await messagedNumbers(admin.tenant)).toEqual([US, GRANTED]);
  });

  it('promotional_consent: not_required texts every number; required asks it of the US number too', async () => {
    const open = await tenant({ promotional_consent: 'not_required' });
    const status = await runToCompletion(open);
    expect(status.skipped.no_consent ?? 0).toBe(0);
    expect(await messagedNumbers(open.tenant)).toEqual([US, GRANTED, REVOKED, UNKNOWN]);

    const strict = await tenant({ promotional_consent: 'required' });
    await runToCompletion(strict);
    expect(await messagedNumbers(strict.tenant)).toEqual([GRANTED]);
  });

  it('/send and /send-bulk of a promotional type refuse no_consent; a transactional send is not affected', async () => {
    const admin = await tenant();
    const refused = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({ phone_number: UNKNOWN, message: 'Open day on Saturday' })
      .expect(400);
    expect(refused.body).toMatchObject({
      error: 'Bad Request',
      details: [{ field: 'phone_number', errors: [expect.stringContaining('no_consent')] }],
    });
    const bulk = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(admin))
      .send({
        phone_numbers: [GRANTED, REVOKED, UNKNOWN, US],
        message: 'Open day',
        message_type: 'general_notification',
      })
      .expect(202);
    expect(bulk.body.rejected).toEqual([
      { phone_number: REVOKED, reason: 'no_consent' },
      { phone_number: UNKNOWN, reason: 'no_consent' },
    ]);
    expect(bulk.body.accepted).toBe(2);
    // A transactional type is not promotional: no consent asked.
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({
        phone_number: REVOKED,
        message: 'Your training is tomorrow',
        message_type: 'appointment_reminder',
      })
      .expect(202);
    // A custom type whose template says transactional is not promotional either.
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(admin))
      .send({
        ...newsTemplate,
        template_id: 'shift_notice',
        message_type: 'shift_notice',
        transactional: true,
      })
      .expect(201);
    await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(admin))
      .send({ phone_number: UNKNOWN, template_id: 'shift_notice', variables: { name: 'A', topic: 'B' } })
      .expect(202);
  });

  it('exports the consent history as an İYS CSV, this tenant only; the history refuses UPDATE and DELETE', async () => {
    const admin = await tenant();
    const other = await tenant();
    const res = await t.http().get('/api/sms/consent/export').set(t.auth(admin)).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.text.split('\r\n')).toEqual([
      'recipient,type,source,status,consentDate,recipientType,retailerCode',
      `${GRANTED},MESAJ,HS_WEB,ONAY,2026-12-01 09:30:00,BIREYSEL,`,
      expect.stringMatching(
        new RegExp(
          `^\\${REVOKED},MESAJ,HS_FIZIKSEL_ORTAM,ONAY,\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,BIREYSEL,$`,
        ),
      ),
      expect.stringMatching(new RegExp(`^\\${REVOKED},MESAJ,HS_WEB,RET,`)),
      '',
    ]);
    // A window that ends before the changes holds none; from after to is a 400 naming from.
    const empty = await t
      .http()
      .get('/api/sms/consent/export')
      .query({ to: '2026-01-01T00:00:00Z' })
      .set(t.auth(admin))
      .expect(200);
    expect(empty.text).toBe('recipient,type,source,status,consentDate,recipientType,retailerCode\r\n');
    const bad = await t
      .http()
      .get('/api/sms/consent/export')
      .query({ from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' })
      .set(t.auth(admin))
      .expect(400);
    expect(bad.body.details[0].field).toBe('from');
    await t
      .http()
      .get('/api/sms/consent/export')
      .set(t.auth({ tenant: admin.tenant }))
      .expect(403);

    // The other tenant's export holds its own rows only (same numbers, its own changes).
    const mine: { id: string }[] = await ds.query('SELECT id FROM sms_consent_events WHERE tenant_id = $1', [
      admin.tenant,
    ]);
    const theirs: { id: string }[] = await ds.query(
      'SELECT id FROM sms_consent_events WHERE tenant_id = $1',
      [other.tenant],
    );
    expect(mine).toHaveLength(3);
    expect(theirs).toHaveLength(3);
    await t
      .http()
      .put('/api/sms/recipients/c1/consent')
      .set(t.auth(admin))
      .send({ sms: { status: 'revoked' } })
      .expect(200);
    const otherCsv = await t.http().get('/api/sms/consent/export').set(t.auth(other)).expect(200);
    expect(otherCsv.text.split('\r\n').filter((l) => l.includes(',RET,'))).toEqual([
      expect.stringContaining(REVOKED),
    ]);

    await expect(
      ds.query("UPDATE sms_consent_events SET status = 'granted' WHERE id = $1", [mine[0].id]),
    ).rejects.toThrow(/append-only/);
    await expect(ds.query('DELETE FROM sms_consent_events WHERE id = $1', [mine[0].id])).rejects.toThrow(
      /append-only/,
    );
    // An erasure may redact the number, and only that.
    await expect(
      ds.query("UPDATE sms_consent_events SET phone_number = 'erased', source = 'x' WHERE id = $1", [
        mine[0].id,
      ]),
    ).rejects.toThrow(/append-only/);
  });
});
