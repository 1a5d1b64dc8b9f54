import { randomInt } from 'node:crypto';
import { FakeTwilio } from '../fakes/fake-twilio';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { fakeTwilioEnv } from '../fakes/provider-env';
import { NO_CONSENT_NEEDED } from '../support/tenants';

/** 97 characters with ş, ğ, ı and curly apostrophes: 2 UCS-2 segments as written, 1 GSM-7 transliterated. */
const TR_REMINDER =
  'Hatırlatma: Ayşe Hanım, yarın saat 14:00’te Eğitim Odası A’da randevunuz var. Lütfen erken gelin.';
const TR_REMINDER_GSM =
  "Hatirlatma: Ayse Hanim, yarin saat 14:00'te Egitim Odasi A'da randevunuz var. Lütfen erken gelin.";
/** Curly quotes and an en dash only: 2 UCS-2 segments as written, 1 GSM-7 with lookalikes. */
const NOTICE =
  'Reminder: your assessment “Safety basics” is due on 15 March – please submit it before 17:00. Thanks!';
const NOTICE_GSM =
  'Reminder: your assessment "Safety basics" is due on 15 March - please submit it before 17:00. Thanks!';

let nextUs = randomInt(0, 10_000);
const freshUs = () => `+1202555${String(nextUs++ % 10_000).padStart(4, '0')}`;
let nextTr = randomInt(0, 10_000_000);
const freshTr = () => `+90532${String(nextTr++ % 10_000_000).padStart(7, '0')}`;

describe('smart encoding: the tenant setting smart_encoding on every send route', () => {
  const twilioFake = new FakeTwilio();
  let t: TestApp;
  const operator = () => t.auth({ tenant: 1, roles: ['super_admin'] });

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        ...fakeTwilioEnv(await twilioFake.start()),
        SMS_PROVIDERS: 'twilio',
        PUBLIC_BASE_URL: 'https://sms.example.test',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
  });

  /** A tenant admin of a new tenant with these settings (US and TR allowed, no consent asked). */
  async function tenantWith(settings: Record<string, unknown> = {}) {
    const id = freshTenantId();
    await t
      .http()
      .post('/api/sms/tenants')
      .set(operator())
      .send({
        id,
        name: `tenant ${id}`,
        settings: { allowed_countries: ['US', 'TR'], ...NO_CONSENT_NEEDED, ...settings },
      })
      .expect(201);
    return { tenant: id, user: 'admin-1', roles: ['admin'] };
  }

  /** What the provider was handed for this number, once it was. */
  async function providerBody(who: { tenant: number }, messageId: string, to: string): Promise<string> {
    await waitForStatus(t, who, messageId, 'sent');
    const bodies = twilioFake.sent.filter((m) => m.to === to).map((m) => m.body);
    expect(bodies).toHaveLength(1);
    return bodies[0];
  }

  async function historyBody(who: { tenant: number }, messageId: string): Promise<string> {
    const res = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    return res.body.items.find((m: { message_id: string }) => m.message_id === messageId).body;
  }

  it('refuses a smart_encoding that is not a mode with a 400 naming the field, and stores nothing', async () => {
    const id = freshTenantId();
    for (const bad of ['always', 7, true, ['off']]) {
      const res = await t
        .http()
        .post('/api/sms/tenants')
        .set(operator())
        .send({ id, name: 'x', settings: { smart_encoding: bad } })
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(JSON.stringify(res.body.details)).toContain(
        'smart_encoding must be one of off, lookalikes, transliterate',
      );
    }
    await t.http().get(`/api/sms/tenants/${id}`).set(operator()).expect(404);
    await t.http().post('/api/sms/tenants').set(operator()).send({ id, name: 'x' }).expect(201);
    const patched = await t
      .http()
      .patch(`/api/sms/tenants/${id}`)
      .set(operator())
      .send({ settings: { smart_encoding: 'sometimes' } })
      .expect(400);
    expect(JSON.stringify(patched.body.details)).toContain('smart_encoding');
    const ok = await t
      .http()
      .patch(`/api/sms/tenants/${id}`)
      .set(operator())
      .send({ settings: { smart_encoding: 'transliterate' } })
      .expect(200);
    expect(ok.body.settings.smart_encoding).toBe('transliterate');
  });

  it.each([
    // mode, text, what is sent, answer (encoding, segments, cost at Twilio's seeded price), smart_encoding
    ['unset (lookalikes)', undefined, freshTr, TR_REMINDER, TR_REMINDER, 'UCS-2', 2, 0.062, undefined],
    ['off', 'off', freshTr, TR_REMINDER, TR_REMINDER, 'UCS-2', 2, 0.062, undefined],
    ['lookalikes', 'lookalikes', freshTr, TR_REMINDER, TR_REMINDER, 'UCS-2', 2, 0.062, undefined],
    [
      'transliterate',
      'transliterate',
      freshTr,
      TR_REMINDER,
      TR_REMINDER_GSM,
      'GSM-7',
      1,
      0.031,
      { mode: 'transliterate', changed: 8, before: { encoding: 'UCS-2', segments: 2 } },
    ],
    [
      'unset (lookalikes), a text with lookalikes only',
      undefined,
      freshUs,
      NOTICE,
      NOTICE_GSM,
      'GSM-7',
      1,
      0.0083,
      { mode: 'lookalikes', changed: 3, before: { encoding: 'UCS-2', segments: 2 } },
    ],
    ['off, a text with lookalikes only', 'off', freshUs, NOTICE, NOTICE, 'UCS-2', 2, 0.0166, undefined],
  ] as const)(
    '/send with smart_encoding %s: the answer, history and the provider have the text as sent',
    async (_name, mode, phone, message, sent, encoding, segments, cost, smart) => {
      const who = await tenantWith(mode ? { smart_encoding: mode } : {});
      const to = phone();
      const res = await t
        .http()
        .post('/api/sms/send')
        .set(t.auth(who))
        .send({ phone_number: to, message, message_type: 'appointment_reminder' })
        .expect(202);
      expect(res.body).toMatchObject({ encoding, segments, estimated_cost: cost });
      if (smart) expect(res.body.smart_encoding).toEqual({ ...smart, after: { encoding, segments } });
      else expect(res.body).not.toHaveProperty('smart_encoding');
      expect(await providerBody(who, res.body.message_id, to)).toBe(sent);
      expect(await historyBody(who, res.body.message_id)).toBe(sent);
      const status = await t
        .http()
        .get(`/api/sms/messages/${res.body.message_id}/status`)
        .set(t.auth(who))
        .expect(200);
      expect(status.body).toMatchObject({ encoding, segments });
    },
  );

  it('measures the length limit on the text as sent', async () => {
    // 675 characters: 11 UCS-2 segments (over SMS_MAX_SEGMENTS=10) as written, 5 GSM-7 ones as sent.
    const long = 'It’s ok. '.repeat(75);
    const off = await tenantWith({ smart_encoding: 'off' });
    const refused = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(off))
      .send({ phone_number: freshUs(), message: long })
      .expect(400);
    expect(refused.body.message).toContain('11 segments (UCS-2)');
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(await tenantWith()))
      .send({ phone_number: freshUs(), message: long })
      .expect(202);
    expect(res.body).toMatchObject({
      encoding: 'GSM-7',
      segments: 5,
      smart_encoding: { mode: 'lookalikes', changed: 75, before: { encoding: 'UCS-2', segments: 11 } },
    });
  });

  it('/send-bulk shows one smart_encoding for the shared text, figures per message, cost summed', async () => {
    const who = await tenantWith();
    const numbers = [freshUs(), freshUs()];
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({ phone_numbers: numbers, message: NOTICE })
      .expect(202);
    expect(res.body).toMatchObject({
      accepted: 2,
      encoding: 'GSM-7',
      segments: 1,
      estimated_cost: 0.0166,
      smart_encoding: {
        mode: 'lookalikes',
        changed: 3,
        before: { encoding: 'UCS-2', segments: 2 },
        after: { encoding: 'GSM-7', segments: 1 },
      },
    });
    for (const id of res.body.message_ids) expect(await historyBody(who, id)).toBe(NOTICE_GSM);
  });

  it('/schedule answers with smart_encoding too', async () => {
    const who = await tenantWith({ smart_encoding: 'transliterate' });
    const res = await t
      .http()
      .post('/api/sms/schedule')
      .set(t.auth(who))
      .send({
        phone_number: freshTr(),
        message: TR_REMINDER,
        scheduled_time: new Date(Date.now() + 3_600_000).toISOString(),
      })
      .expect(202);
    expect(res.body).toMatchObject({ status: 'scheduled', encoding: 'GSM-7', segments: 1 });
    expect(res.body.smart_encoding).toMatchObject({ mode: 'transliterate', after: { segments: 1 } });
    expect(await historyBody(who, res.body.message_id)).toBe(TR_REMINDER_GSM);
  });

  it('replays the same answer for an Idempotency-Key, smart_encoding included, whatever the setting is now', async () => {
    const who = await tenantWith({ smart_encoding: 'transliterate' });
    const body = { phone_number: freshTr(), message: TR_REMINDER };
    const first = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .set('Idempotency-Key', 'smart-1')
      .send(body)
      .expect(202);
    expect(first.body.smart_encoding).toBeDefined();
    await t
      .http()
      .patch(`/api/sms/tenants/${who.tenant}`)
      .set(operator())
      .send({ settings: { smart_encoding: 'off' } })
      .expect(200);
    const again = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .set('Idempotency-Key', 'smart-1')
      .send(body)
      .expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('never alters a code, whatever the setting', async () => {
    const who = await tenantWith({ smart_encoding: 'transliterate' });
    // The tenant's own 2fa_code text, with lookalikes and a Turkish letter.
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: '2fa_code',
        name: '2FA',
        content_en: 'Your code is {{code}} – don’t share it… Hoş',
        message_type: '2fa_code',
        variables: ['code'],
      })
      .expect(201);
    const to = freshUs();
    const res = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(who))
      .send({ phone_number: to, purpose: '2fa', code: '246810' })
      .expect(202);
    expect(res.body).toMatchObject({ encoding: 'UCS-2' });
    expect(res.body).not.toHaveProperty('smart_encoding');
    expect(await providerBody(who, res.body.message_id, to)).toBe(
      'Your code is 246810 – don’t share it… Hoş',
    );
    expect(await historyBody(who, res.body.message_id)).toBe('Your code is ****** – don’t share it… Hoş');
  });

  it('never alters a template marked exact; the template answer and the preview say what applies', async () => {
    const who = await tenantWith({ smart_encoding: 'transliterate' });
    const created = await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: 'welcome_exact',
        name: 'Welcome',
        content_en: 'Welcome {{name}}!',
        content_tr: 'Hoş geldiniz {{name}}! “Hesabınız” hazır.',
        message_type: 'appointment_reminder',
        variables: ['name'],
        exact: true,
      })
      .expect(201);
    expect(created.body).toMatchObject({ exact: true, smart_encoding: 'off' });
    const send = async (to: string) =>
      (
        await t
          .http()
          .post('/api/sms/send-templated')
          .set(t.auth(who))
          .send({
            phone_number: to,
            template_id: 'welcome_exact',
            variables: { name: 'Ayşe' },
            language: 'tr',
          })
          .expect(202)
      ).body;
    const preview = () =>
      t
        .http()
        .post('/api/sms/templates/welcome_exact/preview')
        .set(t.auth(who))
        .send({ variables: { name: 'Ayşe' }, language: 'tr' })
        .expect(200);

    const exactTo = freshTr();
    const exact = await send(exactTo);
    expect(exact).toMatchObject({ encoding: 'UCS-2', template_id: 'welcome_exact', language_used: 'tr' });
    expect(exact).not.toHaveProperty('smart_encoding');
    expect(await providerBody(who, exact.message_id, exactTo)).toBe('Hoş geldiniz Ayşe! “Hesabınız” hazır.');
    const asWritten = (await preview()).body;
    expect(asWritten).toMatchObject({ text: 'Hoş geldiniz Ayşe! “Hesabınız” hazır.', encoding: 'UCS-2' });
    expect(asWritten).not.toHaveProperty('smart_encoding');

    const patched = await t
      .http()
      .patch('/api/sms/templates/welcome_exact')
      .set(t.auth(who))
      .send({ exact: false })
      .expect(200);
    expect(patched.body).toMatchObject({ exact: false, smart_encoding: 'transliterate' });
    const to = freshTr();
    const changed = await send(to);
    expect(changed).toMatchObject({
      encoding: 'GSM-7',
      segments: 1,
      smart_encoding: { mode: 'transliterate', changed: 7 },
    });
    expect(await providerBody(who, changed.message_id, to)).toBe('Hos geldiniz Ayse! "Hesabiniz" hazir.');
    expect((await preview()).body).toEqual({
      text: 'Hos geldiniz Ayse! "Hesabiniz" hazir.',
      encoding: 'GSM-7',
      segments: 1,
      missing_variables: [],
      language_used: 'tr',
      smart_encoding: {
        mode: 'transliterate',
        changed: 7,
        before: { encoding: 'UCS-2', segments: 1 },
        after: { encoding: 'GSM-7', segments: 1 },
      },
    });
    const listed = await t.http().get('/api/sms/templates').set(t.auth(who)).expect(200);
    const smartOf = (id: string) =>
      listed.body.find((x: { template_id: string }) => x.template_id === id).smart_encoding;
    expect([smartOf('welcome_exact'), smartOf('general_notification'), smartOf('password_reset')]).toEqual([
      'transliterate',
      'transliterate',
      'off',
    ]);
  });

  it('refuses an exact that is not a boolean, naming the field', async () => {
    const who = await tenantWith();
    const res = await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: 'bad_exact',
        name: 'x',
        content_en: 'Hi',
        message_type: 'general_notification',
        variables: [],
        exact: 'yes',
      })
      .expect(400);
    expect(JSON.stringify(res.body.details)).toContain('exact');
    await t.http().get('/api/sms/templates/bad_exact').set(t.auth(who)).expect(404);
  });
});
