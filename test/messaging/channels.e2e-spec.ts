import { randomInt } from 'node:crypto';
import { DataSource } from 'typeorm';
import { HostResolver } from '../../src/callbacks';
import { ChannelFallbacks } from '../../src/messaging';
import { FakeTwilio, twilioError } from '../fakes/fake-twilio';
import { fakeTwilioEnv } from '../fakes/provider-env';
import { FakeDns } from '../support/fake-dns';
import { waitForStatus } from '../support/messages';
import { PUBLIC_BASE_URL, twilioStatus, WHATSAPP_FROM, whatsappInbound } from '../support/twilio-webhooks';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';

const CONTENT_SID = 'HX' + 'ab'.repeat(16);

/** A US number no other test uses (a STOP reaches every tenant's list). */
let nextUs = randomInt(0, 10_000);
const freshUs = () => `+1312556${String(nextUs++ % 10_000).padStart(4, '0')}`;

describe('channels: WhatsApp and MMS through the fake Twilio, and the WhatsApp → SMS fallback', () => {
  const twilioFake = new FakeTwilio();
  const dns = new FakeDns()
    .set('cdn.example.com', ['93.184.216.34'])
    .set('intranet.example.com', ['10.0.0.5']);
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        SMS_PROVIDERS: 'twilio',
        ...fakeTwilioEnv(await twilioFake.start()),
        TWILIO_WHATSAPP_FROM: WHATSAPP_FROM,
        PUBLIC_BASE_URL,
        SMS_RETRY_BASE_MS: '50',
        SMS_FALLBACK_INTERVAL_MS: '200',
      },
      override: (b) => b.overrideProvider(HostResolver).useValue(dns),
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
  });

  /** A tenant (with settings when given): its admin. */
  async function tenant(settings?: Record<string, unknown>): Promise<TokenOptions> {
    const id = freshTenantId();
    if (settings)
      await t
        .http()
        .post('/api/sms/tenants')
        .set(t.auth({ tenant: 1, roles: ['super_admin'] }))
        .send({ id, name: `tenant ${id}`, settings })
        .expect(201);
    return { tenant: id, roles: ['admin'] };
  }
  const send = (who: TokenOptions, body: Record<string, unknown>) =>
    t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ message: 'Your order has shipped', ...body });
  const sentTo = (to: string) => twilioFake.sent.filter((m) => m.to === to);

  it('sends free text inside the session window: whatsapp:-prefixed From and To, Body, no ContentSid', async () => {
    const who = await tenant();
    const phone = freshUs();
    await whatsappInbound(t, phone, 'hi, where is my order?').expect(200);
    const res = await send(who, { phone_number: phone, channel: 'whatsapp' }).expect(202);
    expect(res.body).toMatchObject({ channel: 'whatsapp', whatsapp_mode: 'session' });
    const status = await waitForStatus(t, who, res.body.message_id, 'sent');
    expect(status).toMatchObject({ channel: 'whatsapp', whatsapp_mode: 'session', provider: 'twilio' });
    const [m] = sentTo(`whatsapp:${phone}`);
    expect(m).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, body: 'Your order has shipped' });
    expect(m.contentSid).toBeUndefined();
  });

  it('sends the approved template outside the window: ContentSid and ContentVariables JSON, no Body', async () => {
    const who = await tenant();
    const phone = freshUs();
    const res = await send(who, {
      phone_number: phone,
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      content_variables: { '1': 'Ada', '2': 'tomorrow' },
    }).expect(202);
    expect(res.body.whatsapp_mode).toBe('template');
    await waitForStatus(t, who, res.body.message_id, 'sent');
    const [m] = sentTo(`whatsapp:${phone}`);
    expect(m).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, contentSid: CONTENT_SID });
    expect(JSON.parse(m.contentVariables as string)).toEqual({ '1': 'Ada', '2': 'tomorrow' });
    expect(m.body).toBeUndefined();
  });

  it('refuses WhatsApp free text outside the window with a 400 naming content_sid, storing nothing', async () => {
    const who = await tenant();
    const phone = freshUs();
    const res = await send(who, { phone_number: phone, channel: 'whatsapp' }).expect(400);
    expect(res.body.details[0].field).toBe('content_sid');
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toEqual([]);
  });

  it('sends MMS with one MediaUrl per medium', async () => {
    const who = await tenant();
    const phone = freshUs();
    const media = ['https://cdn.example.com/flyer.jpg', 'https://cdn.example.com/map.png'];
    const res = await send(who, { phone_number: phone, channel: 'mms', media_urls: media }).expect(202);
    expect(res.body).toMatchObject({ channel: 'mms', segments: 1 });
    const status = await waitForStatus(t, who, res.body.message_id, 'sent');
    expect(status).toMatchObject({ channel: 'mms', media_urls: media });
    const [m] = sentTo(phone);
    expect(m.mediaUrls).toEqual(media);
    expect(m.from).toBe('+15005550006');
  });

  it.each([
    ['an http media URL', { channel: 'mms', media_urls: ['http://cdn.example.com/a.jpg'] }, 'media_urls'],
    [
      'a media URL at a private address',
      { channel: 'mms', media_urls: ['https://10.1.2.3/a.jpg'] },
      'media_urls',
    ],
    [
      'a media host that resolves to a private address',
      { channel: 'mms', media_urls: ['https://intranet.example.com/a.jpg'] },
      'media_urls',
    ],
    ['MMS without media', { channel: 'mms' }, 'media_urls'],
    ['media_urls on an SMS', { media_urls: ['https://cdn.example.com/a.jpg'] }, 'media_urls'],
    ['content_sid on an SMS', { content_sid: CONTENT_SID }, 'content_sid'],
    [
      'fallback_channel on MMS',
      { channel: 'mms', media_urls: ['https://cdn.example.com/a.jpg'], fallback_channel: 'sms' },
      'fallback_channel',
    ],
    ['an unknown channel', { channel: 'telegram' }, 'channel'],
  ])('refuses %s with a 400 naming the field, storing nothing', async (_what, body, field) => {
    const who = await tenant();
    const res = await send(who, { phone_number: freshUs(), ...body }).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: expect.any(String) });
    expect(JSON.stringify(res.body.details)).toContain(field);
    const history = await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(history.body.items).toEqual([]);
  });

  it('refuses MMS to a country without MMS with a 400 naming the country', async () => {
    const who = await tenant({ allowed_countries: ['*'] });
    const res = await send(who, {
      phone_number: '+4915123456789',
      channel: 'mms',
      media_urls: ['https://cdn.example.com/a.jpg'],
    }).expect(400);
    expect(res.body.details[0].field).toBe('phone_number');
    expect(res.body.message).toContain('DE');
  });

  it('answers another tenant 404 for a WhatsApp message', async () => {
    const who = await tenant();
    const res = await send(who, {
      phone_number: freshUs(),
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
    }).expect(202);
    const other = { tenant: freshTenantId(), roles: ['admin'] };
    await t.http().get(`/api/sms/messages/${res.body.message_id}/status`).set(t.auth(other)).expect(404);
  });

  /** The SMS rows that replace `id` (the fallback's own rows). */
  const fallbacksOf = async (id: string): Promise<{ id: string; channel: string; phone_number: string }[]> =>
    t
      .get(DataSource)
      .query('SELECT id, channel, phone_number FROM sms_messages WHERE fallback_of = $1', [id]);

  it('sends a WhatsApp message that fails definitively once as SMS, even with workers racing', async () => {
    const who = await tenant();
    const phone = freshUs();
    // Twilio refuses it for good (63016: outside the window, as WhatsApp reports it).
    twilioFake.failTo(`whatsapp:${phone}`, twilioError(400, 63016, 'Failed to send freeform message'));
    const res = await send(who, {
      phone_number: phone,
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      fallback_channel: 'sms',
    }).expect(202);
    const id = res.body.message_id as string;
    // Two more passes race the job's own.
    const fallbacks = t.get(ChannelFallbacks);
    await waitForStatus(t, who, id, 'failed');
    await Promise.all([fallbacks.pass(), fallbacks.pass()]);
    const status = await eventually(async () => {
      const s = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who));
      return s.body.fallback_message_id ? s.body : undefined;
    });
    expect(status).toMatchObject({ fallback_channel: 'sms', fallback_reason: 'failed' });
    const sms = await waitForStatus(t, who, status.fallback_message_id, 'sent');
    expect(sms).toMatchObject({ channel: 'sms', fallback_of: id });
    await Promise.all([fallbacks.pass(), fallbacks.pass()]);
    expect(await fallbacksOf(id)).toHaveLength(1);
    expect(sentTo(phone)).toHaveLength(1);
    expect(sentTo(phone)[0].body).toBe('Your order has shipped');
  });

  it('sends a WhatsApp message without a receipt in the tenant time once as SMS; a late delivered receipt is recorded on the original', async () => {
    const who = await tenant({ whatsapp_fallback_seconds: 5 });
    const phone = freshUs();
    await whatsappInbound(t, phone, 'hello').expect(200);
    const res = await send(who, { phone_number: phone, channel: 'whatsapp', fallback_channel: 'sms' }).expect(
      202,
    );
    const id = res.body.message_id as string;
    await waitForStatus(t, who, id, 'sent');
    const status = await eventually(
      async () => {
        const s = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who));
        return s.body.fallback_message_id ? s.body : undefined;
      },
      20_000,
      'the fallback',
    );
    expect(status).toMatchObject({ status: 'sent', fallback_reason: 'no_receipt' });
    await waitForStatus(t, who, status.fallback_message_id, 'sent');
    // The WhatsApp message is delivered after all: recorded; the SMS is not canceled, both count.
    const [wa] = sentTo(`whatsapp:${phone}`);
    await twilioStatus(t, wa.sid as string, wa.accountSid as string, 'delivered').expect(204);
    await waitForStatus(t, who, id, 'delivered');
    await t.get(ChannelFallbacks).pass();
    expect(await fallbacksOf(id)).toHaveLength(1);
    expect(sentTo(phone)).toHaveLength(1);
  }, 40_000);

  it('logs an inbound WhatsApp reply as channel whatsapp, and its STOP opts the number out', async () => {
    const who = await tenant();
    const phone = freshUs();
    // The tenant texted the number first: its replies are the tenant's.
    const first = await send(who, {
      phone_number: phone,
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
    }).expect(202);
    await waitForStatus(t, who, first.body.message_id, 'sent');
    await whatsappInbound(t, phone, 'STOP').expect(200);
    const inbound = await t.http().get('/api/sms/inbound').set(t.auth(who)).expect(200);
    expect(inbound.body.items[0]).toMatchObject({ from: phone, channel: 'whatsapp', keyword: 'stop' });
    const refused = await send(who, { phone_number: phone, channel: 'whatsapp' }).expect(400);
    expect(refused.body.message).toContain('opted out');
    await send(who, { phone_number: phone }).expect(400);
  });

  it('splits stats by channel', async () => {
    const who = await tenant();
    const phone = freshUs();
    await send(who, { phone_number: phone }).expect(202);
    await send(who, { phone_number: phone, channel: 'whatsapp', content_sid: CONTENT_SID }).expect(202);
    await send(who, {
      phone_number: phone,
      channel: 'mms',
      media_urls: ['https://cdn.example.com/a.jpg'],
    }).expect(202);
    const res = await t.http().get('/api/sms/stats/channels').set(t.auth(who)).expect(200);
    const by = Object.fromEntries(res.body.by_channel.map((c: { channel: string }) => [c.channel, c]));
    expect(by.sms.total).toBe(1);
    expect(by.whatsapp.total).toBe(1);
    expect(by.mms.total).toBe(1);
    expect(by.whatsapp.estimated_cost).toBe('0.013');

    // The month's cost report splits the same way once the three are handed to Twilio.
    const month = new Date().toISOString().slice(0, 7);
    const report = await eventually(
      async () => {
        const r = await t.http().get(`/api/sms/reports/costs?month=${month}`).set(t.auth(who)).expect(200);
        return r.body.totals[0]?.messages === 3 ? r.body : undefined;
      },
      15_000,
      'the three messages in the cost report',
    );
    const costs = Object.fromEntries(
      report.by_channel.map((c: { key: string; messages: number; estimated_cost: string }) => [
        c.key,
        [c.messages, c.estimated_cost],
      ]),
    );
    expect(costs).toEqual({
      sms: [1, by.sms.estimated_cost],
      whatsapp: [1, '0.013'],
      mms: [1, by.mms.estimated_cost],
    });
  });

  it('keeps code templates on SMS: a code template naming whatsapp is a 400, one stored so before still sends by SMS, and a code goes neither as MMS nor with a fallback', async () => {
    const who = await tenant();
    const codeTemplate = {
      template_id: '2fa_code',
      name: 'Our 2FA code',
      content_en: 'Your sign-in code is {{code}}',
      message_type: '2fa_code',
      variables: ['code'],
    };
    const templates = () => t.http().post('/api/sms/templates').set(t.auth(who));
    const refused = await templates()
      .send({ ...codeTemplate, channel: 'whatsapp', content_sid: CONTENT_SID })
      .expect(400);
    expect(refused.body.details[0].field).toBe('channel');
    await templates().send(codeTemplate).expect(201);
    const phone = freshUs();
    const templated = (extra: Record<string, unknown>) =>
      t
        .http()
        .post('/api/sms/send-templated')
        .set(t.auth(who))
        .send({ phone_number: phone, template_id: '2fa_code', variables: { code: '482913' }, ...extra })
        .expect(400);
    const mms = await templated({ channel: 'mms', media_urls: ['https://cdn.example.com/a.png'] });
    expect(mms.body.details[0].field).toBe('channel');
    const fallback = await templated({
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      fallback_channel: 'sms',
    });
    expect(fallback.body.details[0].field).toBe('fallback_channel');
    expect(JSON.stringify([mms.body, fallback.body])).not.toContain('482913');
    // A template stored before the rule (whatsapp on a code template): its channel does not apply.
    await t
      .get(DataSource)
      .query(
        `UPDATE sms_templates SET channel = 'whatsapp', content_sid = $2 WHERE tenant_id = $1 AND template_id = '2fa_code'`,
        [who.tenant, CONTENT_SID],
      );
    const code = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(who))
      .send({ phone_number: phone, purpose: '2fa', code: '739164' })
      .expect(202);
    expect(code.body.channel).toBe('sms');
    // Nor its content_sid: asked for WhatsApp without one, the code's own send needs its own.
    const noSid = await t
      .http()
      .post('/api/sms/verification/send')
      .set(t.auth(who))
      .send({ phone_number: freshUs(), purpose: '2fa', channel: 'whatsapp' })
      .expect(400);
    expect(noSid.body.details[0].field).toBe('content_sid');
    await waitForStatus(t, who, code.body.message_id, 'sent');
    expect(sentTo(`whatsapp:${phone}`)).toEqual([]);
    const [m] = sentTo(phone);
    expect(m.body).toBe('Your sign-in code is 739164');
    expect(m.contentSid).toBeUndefined();
  });

  it('sends a verification code by WhatsApp when asked: the authentication template with the code as variable 1 outside the window, free text inside, the code never stored in clear', async () => {
    const who = await tenant();
    const verify = (body: Record<string, unknown>) =>
      t
        .http()
        .post('/api/sms/verification/send')
        .set(t.auth(who))
        .send({ purpose: '2fa', channel: 'whatsapp', ...body });
    const closed = freshUs();
    const noTemplate = await verify({ phone_number: closed, code: '604213' }).expect(400);
    expect(noTemplate.body.details[0].field).toBe('content_sid');
    const badSid = await verify({ phone_number: closed, code: '604213', content_sid: 'HX12' }).expect(400);
    expect(badSid.body.details[0].field).toBe('content_sid');
    const mms = await verify({ phone_number: closed, channel: 'mms' }).expect(400);
    expect(mms.body.details[0].field).toBe('channel');

    const sent = await verify({ phone_number: closed, code: '604213', content_sid: CONTENT_SID }).expect(202);
    expect(sent.body).toMatchObject({ channel: 'whatsapp', whatsapp_mode: 'template' });
    const status = await waitForStatus(t, who, sent.body.message_id, 'sent');
    expect(status).toMatchObject({
      channel: 'whatsapp',
      whatsapp_mode: 'template',
      content_sid: CONTENT_SID,
    });
    const [tpl] = sentTo(`whatsapp:${closed}`);
    expect(tpl).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, contentSid: CONTENT_SID });
    expect(JSON.parse(tpl.contentVariables as string)).toEqual({ '1': '604213' });
    // Stored: the text and the variables redacted, the clear code only sealed (and gone once sent).
    const [row] = await t
      .get(DataSource)
      .query(`SELECT body, channel_params, body_ciphertext FROM sms_messages WHERE id = $1`, [
        sent.body.message_id,
      ]);
    expect(JSON.stringify(row)).not.toContain('604213');
    expect(row.channel_params.content_variables).toEqual({ '1': '******' });
    expect(JSON.stringify(status)).not.toContain('604213');
    const check = await t
      .http()
      .post('/api/sms/verification/check')
      .set(t.auth(who))
      .send({ phone_number: closed, purpose: '2fa', code: '604213' })
      .expect(200);
    expect(check.body.valid).toBe(true);

    const open = freshUs();
    await whatsappInbound(t, open, 'send me my code').expect(200);
    const inside = await verify({ phone_number: open, code: '318275' }).expect(202);
    expect(inside.body.whatsapp_mode).toBe('session');
    await waitForStatus(t, who, inside.body.message_id, 'sent');
    const [free] = sentTo(`whatsapp:${open}`);
    expect(free.body).toContain('318275');
    expect(free.contentSid).toBeUndefined();
  });

  it("clears a template's content_sid with PATCH null, refuses a malformed one naming it, and answers another tenant 404", async () => {
    const who = await tenant();
    const path = '/api/sms/templates/wa_notice';
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: 'wa_notice',
        name: 'Notice on WhatsApp',
        content_en: 'Notice: {{what}}',
        message_type: 'general_notification',
        variables: ['what'],
        channel: 'whatsapp',
        content_sid: CONTENT_SID,
      })
      .expect(201);
    const patch = (who_: typeof who, body: Record<string, unknown>) =>
      t.http().patch(path).set(t.auth(who_)).send(body);
    const bad = await patch(who, { content_sid: 'HX12' }).expect(400);
    expect(bad.body.details[0].field).toBe('content_sid');
    await patch({ tenant: freshTenantId(), roles: ['admin'] }, { content_sid: null }).expect(404);
    const kept = await t.http().get(path).set(t.auth(who)).expect(200);
    expect(kept.body.content_sid).toBe(CONTENT_SID);
    const cleared = await patch(who, { content_sid: null }).expect(200);
    expect(cleared.body).toMatchObject({ channel: 'whatsapp', content_sid: null });
    expect((await t.http().get(path).set(t.auth(who)).expect(200)).body.content_sid).toBeNull();
  });

  it("sends an appointment's reminder on its template's channel (a tenant's appointment_reminder template set to whatsapp)", async () => {
    const who = await tenant();
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: 'appointment_reminder',
        name: 'Reminder on WhatsApp',
        content_en: 'Reminder: {{date}} {{time}} with {{trainer_name}} at {{location}}',
        message_type: 'appointment_reminder',
        variables: ['date', 'time', 'trainer_name', 'location'],
        channel: 'whatsapp',
        content_sid: CONTENT_SID,
      })
      .expect(201);
    const phone = freshUs();
    await t
      .http()
      .put('/api/sms/appointments/wa-1')
      .set(t.auth(who))
      .send({
        phone_number: phone,
        starts_at: new Date(Date.now() + 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        trainer_name: 'John Doe',
        location: 'Room A',
      })
      .expect(201);
    const res = await t
      .http()
      .post('/api/sms/appointments/wa-1/remind')
      .set(t.auth(who))
      .send({})
      .expect(202);
    const status = await waitForStatus(t, who, res.body.message_id, 'sent');
    expect(status).toMatchObject({
      channel: 'whatsapp',
      whatsapp_mode: 'template',
      content_sid: CONTENT_SID,
    });
    const [m] = sentTo(`whatsapp:${phone}`);
    expect(m).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, contentSid: CONTENT_SID });

    // The remind route's own channel wins over the template's.
    const other = freshUs();
    await t
      .http()
      .put('/api/sms/appointments/wa-2')
      .set(t.auth(who))
      .send({
        phone_number: other,
        starts_at: new Date(Date.now() + 3 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        trainer_name: 'John Doe',
        location: 'Room B',
      })
      .expect(201);
    const bad = await t
      .http()
      .post('/api/sms/appointments/wa-2/remind')
      .set(t.auth(who))
      .send({ channel: 'fax' })
      .expect(400);
    expect(bad.body.details[0].field).toBe('channel');
    const sms = await t
      .http()
      .post('/api/sms/appointments/wa-2/remind')
      .set(t.auth(who))
      .send({ channel: 'sms' })
      .expect(202);
    expect(await waitForStatus(t, who, sms.body.message_id, 'sent')).toMatchObject({ channel: 'sms' });
    expect(sentTo(`whatsapp:${other}`)).toEqual([]);
    expect(sentTo(other)[0].body).toContain('Room B');
  });
});
