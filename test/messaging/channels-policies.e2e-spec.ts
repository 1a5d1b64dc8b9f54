import { randomInt } from 'node:crypto';
import { HostResolver } from '../../src/callbacks';
import { CampaignsService } from '../../src/campaigns';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/sdk';
import { FakeTwilio, twilioError } from '../fakes/fake-twilio';
import { fakeTwilioEnv } from '../fakes/provider-env';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { FakeDns } from '../support/fake-dns';
import { waitForStatus } from '../support/messages';
import { PUBLIC_BASE_URL, twilioStatus, WHATSAPP_FROM, whatsappInbound } from '../support/twilio-webhooks';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';

/**
 * Channels (issue 25, docs/sending.md#channels) beyond a single `/send`: bulk, templated and
 * campaign sends on WhatsApp and MMS, through the fake Twilio's wire format; and the send rules
 * the issue says still hold on every channel (spend cap, destinations, quiet hours, validity,
 * status callbacks), each tried on WhatsApp or MMS beside SMS.
 */

const CONTENT_SID = 'HX' + 'cd'.repeat(16);
const MEDIA = ['https://cdn.example.com/poster.jpg'];
/** A German mobile: no MMS there, and outside a US-only tenant's destinations. */
const DE = '+4915123456789';

/**
 * A US number no other suite uses (WhatsApp sessions and STOPs are not per tenant), and no other
 * send of this run (the fake's requests are looked up by number).
 */
let nextUs = randomInt(0, 10_000);
const freshUs = () => `+1646557${String(nextUs++ % 10_000).padStart(4, '0')}`;
const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;

describe('channels: bulk, templated and campaign sends on WhatsApp and MMS, and the send rules on every channel', () => {
  const twilioFake = new FakeTwilio();
  const receiver = new WebhookReceiver();
  const dns = new FakeDns().set('cdn.example.com', ['93.184.216.34']);
  let t: TestApp;
  let callbacks: string;

  beforeAll(async () => {
    callbacks = await receiver.start();
    t = await createTestApp({
      env: {
        SMS_PROVIDERS: 'twilio',
        ...fakeTwilioEnv(await twilioFake.start()),
        TWILIO_WHATSAPP_FROM: WHATSAPP_FROM,
        PUBLIC_BASE_URL,
        SMS_RETRY_BASE_MS: '50',
        // The receiver listens on 127.0.0.1 over http.
        WEBHOOK_ALLOW_INSECURE: 'true',
        WEBHOOK_DISPATCH_INTERVAL_MS: '20',
      },
      override: (b) => b.overrideProvider(HostResolver).useValue(dns),
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await receiver.stop();
  });

  const operator = () => t.auth({ tenant: 1, roles: ['super_admin'] });

  /** A new tenant with these settings (US only unless they say otherwise): its admin. */
  async function tenant(settings: Record<string, unknown> = {}): Promise<TokenOptions> {
    const id = freshTenantId();
    await t
      .http()
      .post('/api/sms/tenants')
      .set(operator())
      .send({ id, name: `tenant ${id}`, settings: { allowed_countries: ['US'], ...settings } })
      .expect(201);
    return { tenant: id, roles: ['admin'] };
  }

  const send = (who: TokenOptions, body: Record<string, unknown>) =>
    t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ message: 'Your order has shipped', ...body });
  const bulk = (who: TokenOptions, body: Record<string, unknown>) =>
    t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth(who))
      .send({ message: 'The centre opens at 9 tomorrow', ...body });

  /** The recipient writes to our WhatsApp sender: its 24-hour session window opens. */
  async function openSession(from: string): Promise<void> {
    await whatsappInbound(t, from, 'hello').expect(200);
  }

  /** Twilio's status callback for a message it has (as a carrier receipt would come). */
  async function twilioReceipt(sid: string, accountSid: string, status: string): Promise<void> {
    await twilioStatus(t, sid, accountSid, status).expect(204);
  }

  /** Every create request the fake Twilio got for this `To` (refused ones included). */
  const requestsTo = (to: string) =>
    twilioFake.requests.filter((r) => r.method === 'POST' && r.form.To === to).map((r) => r.form);
  const sentTo = (to: string) => twilioFake.sent.filter((m) => m.to === to);

  async function history(who: TokenOptions) {
    const res = await t.http().get('/api/sms/history?limit=100').set(t.auth(who)).expect(200);
    return res.body.items as { message_id: string; phone_number: string; channel: string; status: string }[];
  }

  // --- 1. channels beyond /send ---------------------------------------------------------------

  it('bulk on WhatsApp without content_sid: sends free text to open sessions, rejects the rest as whatsapp_session_closed', async () => {
    const who = await tenant();
    const [open, closed1, closed2] = [freshUs(), freshUs(), freshUs()];
    await openSession(open);
    const res = await bulk(who, { phone_numbers: [open, closed1, closed2], channel: 'whatsapp' }).expect(202);
    expect(res.body).toMatchObject({
      accepted: 1,
      channel: 'whatsapp',
      whatsapp_modes: { session: 1 },
      segments: 1,
      estimated_cost: 0.013,
    });
    expect(res.body.whatsapp_modes).toEqual({ session: 1 });
    expect(res.body.rejected).toEqual([
      { phone_number: closed1, reason: 'whatsapp_session_closed' },
      { phone_number: closed2, reason: 'whatsapp_session_closed' },
    ]);
    expect(res.body.message_ids).toHaveLength(1);
    const status = await waitForStatus(t, who, res.body.message_ids[0], 'sent');
    expect(status).toMatchObject({ channel: 'whatsapp', whatsapp_mode: 'session', provider: 'twilio' });
    const [m] = sentTo(`whatsapp:${open}`);
    expect(m).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, body: 'The centre opens at 9 tomorrow' });
    expect(m.contentSid).toBeUndefined();
    // Only the accepted one is stored, and nothing went to the closed sessions, in either form.
    expect((await history(who)).map((h) => [h.phone_number, h.channel])).toEqual([[open, 'whatsapp']]);
    for (const n of [closed1, closed2]) {
      expect(requestsTo(`whatsapp:${n}`)).toEqual([]);
      expect(requestsTo(n)).toEqual([]);
    }
  });

  it('bulk on WhatsApp where no session is open and there is no content_sid: a 400 listing every number as whatsapp_session_closed', async () => {
    const who = await tenant();
    const numbers = [freshUs(), freshUs()];
    const res = await bulk(who, { phone_numbers: numbers, channel: 'whatsapp' }).expect(400);
    expect(res.body.details).toEqual([
      {
        field: 'phone_numbers',
        errors: ['no valid phone number'],
        rejected: numbers.map((phone_number) => ({ phone_number, reason: 'whatsapp_session_closed' })),
      },
    ]);
    expect(await history(who)).toEqual([]);
  });

  it('bulk on WhatsApp with content_sid: free text inside a session, the content template elsewhere, counted in whatsapp_modes', async () => {
    const who = await tenant();
    const [open, closed] = [freshUs(), freshUs()];
    await openSession(open);
    const res = await bulk(who, {
      phone_numbers: [open, closed],
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      content_variables: { '1': '9' },
    }).expect(202);
    expect(res.body).toMatchObject({ accepted: 2, rejected: [], channel: 'whatsapp', estimated_cost: 0.026 });
    expect(res.body.whatsapp_modes).toEqual({ session: 1, template: 1 });
    for (const id of res.body.message_ids) await waitForStatus(t, who, id, 'sent');
    const [free] = sentTo(`whatsapp:${open}`);
    expect(free).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, body: 'The centre opens at 9 tomorrow' });
    expect(free.contentSid).toBeUndefined();
    const [tpl] = sentTo(`whatsapp:${closed}`);
    expect(tpl).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, contentSid: CONTENT_SID });
    expect(JSON.parse(tpl.contentVariables as string)).toEqual({ '1': '9' });
    expect(tpl.body).toBeUndefined();
  });

  it('bulk on MMS: a country without MMS is rejected mms_unsupported_country, the US number gets its MediaUrl', async () => {
    const who = await tenant({ allowed_countries: ['US', 'DE'] });
    const us = freshUs();
    const res = await bulk(who, { phone_numbers: [us, DE], channel: 'mms', media_urls: MEDIA }).expect(202);
    expect(res.body).toMatchObject({ accepted: 1, channel: 'mms', segments: 1, estimated_cost: 0.02 });
    expect(res.body.rejected).toEqual([{ phone_number: DE, reason: 'mms_unsupported_country' }]);
    expect(res.body).not.toHaveProperty('whatsapp_modes');
    const status = await waitForStatus(t, who, res.body.message_ids[0], 'sent');
    expect(status).toMatchObject({ channel: 'mms', media_urls: MEDIA });
    expect(sentTo(us).map((m) => m.mediaUrls)).toEqual([MEDIA]);
    expect(requestsTo(DE)).toEqual([]);
    // Only the German number: a 400 listing it, nothing stored.
    const none = await bulk(who, { phone_numbers: [DE], channel: 'mms', media_urls: MEDIA }).expect(400);
    expect(none.body.details[0].rejected).toEqual([{ phone_number: DE, reason: 'mms_unsupported_country' }]);
    expect((await history(who)).map((h) => h.phone_number)).toEqual([us]);
  });

  it("sends a template with channel whatsapp and content_sid through send-templated: the template's ContentSid, the send's ContentVariables, whatsapp: From and To", async () => {
    const who = await tenant();
    const created = await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: 'order_shipped',
        name: 'Order shipped',
        content_en: 'Hi {{name}}, your order has shipped.',
        message_type: 'order_update',
        transactional: true,
        variables: ['name'],
        channel: 'whatsapp',
        content_sid: CONTENT_SID,
      })
      .expect(201);
    expect(created.body).toMatchObject({ channel: 'whatsapp', content_sid: CONTENT_SID });
    const [closed, open] = [freshUs(), freshUs()];
    await openSession(open);
    const templated = (phone: string) =>
      t
        .http()
        .post('/api/sms/send-templated')
        .set(t.auth(who))
        .send({
          phone_number: phone,
          template_id: 'order_shipped',
          variables: { name: 'Ada' },
          content_variables: { '1': 'Ada' },
        })
        .expect(202);
    const outside = await templated(closed);
    expect(outside.body).toMatchObject({ channel: 'whatsapp', whatsapp_mode: 'template' });
    const inside = await templated(open);
    expect(inside.body).toMatchObject({ channel: 'whatsapp', whatsapp_mode: 'session' });
    const status = await waitForStatus(t, who, outside.body.message_id, 'sent');
    expect(status).toMatchObject({
      channel: 'whatsapp',
      whatsapp_mode: 'template',
      content_sid: CONTENT_SID,
    });
    await waitForStatus(t, who, inside.body.message_id, 'sent');
    const [tpl] = sentTo(`whatsapp:${closed}`);
    expect(tpl).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, contentSid: CONTENT_SID });
    expect(JSON.parse(tpl.contentVariables as string)).toEqual({ '1': 'Ada' });
    expect(tpl.body).toBeUndefined();
    // Inside the window the rendered text goes as free text.
    const [free] = sentTo(`whatsapp:${open}`);
    expect(free).toMatchObject({
      from: `whatsapp:${WHATSAPP_FROM}`,
      body: 'Hi Ada, your order has shipped.',
    });
    expect(free.contentSid).toBeUndefined();
    // Nothing went as SMS.
    expect([...requestsTo(closed), ...requestsTo(open)]).toEqual([]);
  });

  it('runs a campaign with channel whatsapp: its messages reach Twilio as WhatsApp (template or session), no SMS', async () => {
    const who = await tenant();
    const [closed, open] = [freshUs(), freshUs()];
    await openSession(open);
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: 'monthly_news',
        name: 'Monthly news',
        content_en: 'Hello {{name}}, this month at the centre: {{topic}}.',
        message_type: 'monthly_news',
        variables: ['name', 'topic'],
      })
      .expect(201);
    await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(who))
      .send({
        recipients: [
          { user_id: 'c1', phone_number: closed, roles: ['member'], attributes: { name: 'Cem' } },
          { user_id: 'c2', phone_number: open, roles: ['member'], attributes: { name: 'Oya' } },
        ],
      })
      .expect(200);
    const c = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(who))
      .send({
        name: 'News on WhatsApp',
        template_id: 'monthly_news',
        recipient_filters: { roles: ['member'] },
        variables: { topic: 'open day' },
        channel: 'whatsapp',
        content_sid: CONTENT_SID,
        content_variables: { '1': 'open day' },
      })
      .expect(201);
    expect(c.body.channel).toBe('whatsapp');
    const id = c.body.campaign_id as string;
    await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(who)).expect(202);
    const campaigns = t.get(CampaignsService);
    const status = await eventually(
      async () => {
        await campaigns.tick();
        const s = await t.http().get(`/api/sms/campaigns/${id}/status`).set(t.auth(who)).expect(200);
        return s.body.status === 'completed' ? s.body : undefined;
      },
      30_000,
      `campaign ${id} to complete`,
    );
    expect(status).toMatchObject({ total_recipients: 2, sent: 2, failed: 0 });
    const [tpl] = sentTo(`whatsapp:${closed}`);
    expect(tpl).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, contentSid: CONTENT_SID });
    expect(JSON.parse(tpl.contentVariables as string)).toEqual({ '1': 'open day' });
    const [free] = sentTo(`whatsapp:${open}`);
    expect(free).toMatchObject({
      from: `whatsapp:${WHATSAPP_FROM}`,
      body: 'Hello Oya, this month at the centre: open day.',
    });
    expect([...requestsTo(closed), ...requestsTo(open)]).toEqual([]);
    const rows = await history(who);
    expect(rows.map((r) => r.channel)).toEqual(['whatsapp', 'whatsapp']);
  });

  it('skips a WhatsApp campaign recipient without an open session when the campaign has no content_sid', async () => {
    const who = await tenant();
    const [closed, open] = [freshUs(), freshUs()];
    await openSession(open);
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(who))
      .send({
        template_id: 'club_news',
        name: 'Club news',
        content_en: 'Hello {{name}}, the club meets on Friday.',
        message_type: 'club_news',
        variables: ['name'],
        channel: 'whatsapp',
      })
      .expect(201);
    await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(who))
      .send({
        recipients: [
          { user_id: 'k1', phone_number: closed, roles: ['member'], attributes: { name: 'Cem' } },
          { user_id: 'k2', phone_number: open, roles: ['member'], attributes: { name: 'Oya' } },
        ],
      })
      .expect(200);
    // No channel on the campaign: the template's (whatsapp), which has no content_sid.
    const c = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(who))
      .send({ name: 'Club', template_id: 'club_news', recipient_filters: { roles: ['member'] } })
      .expect(201);
    expect(c.body.channel).toBeNull();
    const id = c.body.campaign_id as string;
    await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(who)).expect(202);
    const campaigns = t.get(CampaignsService);
    const status = await eventually(
      async () => {
        await campaigns.tick();
        const s = await t.http().get(`/api/sms/campaigns/${id}/status`).set(t.auth(who)).expect(200);
        return s.body.status === 'completed' ? s.body : undefined;
      },
      30_000,
      `campaign ${id} to complete`,
    );
    expect(status).toMatchObject({ total_recipients: 2, sent: 1 });
    expect(status.skipped).toMatchObject({ whatsapp_session_closed: 1 });
    expect(sentTo(`whatsapp:${open}`).map((m) => m.body)).toEqual(['Hello Oya, the club meets on Friday.']);
    expect([...requestsTo(`whatsapp:${closed}`), ...requestsTo(closed)]).toEqual([]);
  });

  // --- 2. the send rules still hold on WhatsApp and MMS --------------------------------------

  it('spend cap: a WhatsApp or MMS send past monthly_spend_cap gets the SMS refusal (402 spend_cap_reached), storing nothing', async () => {
    // 0.01 a month: one US SMS (0.0083) fits; a WhatsApp message (0.013) or an MMS (0.02) alone does not.
    const fresh = await tenant({ monthly_spend_cap: 0.01 });
    const wa = await send(fresh, { phone_number: freshUs(), channel: 'whatsapp', content_sid: CONTENT_SID });
    expect(wa.status).toBe(402);
    expect(wa.body).toMatchObject({
      statusCode: 402,
      error: 'Payment Required',
      details: [
        {
          rule: 'monthly_spend_cap',
          errors: ['monthly spend cap reached: 0 of 0.01 USD spent this month'],
          cap: '0.01',
          month_to_date: '0',
          estimated_cost: '0.013',
          currency: 'USD',
        },
      ],
    });
    expect(await history(fresh)).toEqual([]);

    const who = await tenant({ monthly_spend_cap: 0.01 });
    await send(who, { phone_number: freshUs() }).expect(202);
    const refusals = {
      sms: await send(who, { phone_number: freshUs() }),
      whatsapp: await send(who, { phone_number: freshUs(), channel: 'whatsapp', content_sid: CONTENT_SID }),
      mms: await send(who, { phone_number: freshUs(), channel: 'mms', media_urls: MEDIA }),
      bulk: await bulk(who, {
        phone_numbers: [freshUs(), freshUs()],
        channel: 'whatsapp',
        content_sid: CONTENT_SID,
      }),
    };
    const estimate = { sms: '0.0083', whatsapp: '0.013', mms: '0.02', bulk: '0.026' };
    for (const [k, r] of Object.entries(refusals)) {
      expect([k, r.status]).toEqual([k, 402]);
      expect(r.body).toEqual({
        statusCode: 402,
        error: 'Payment Required',
        message: 'monthly spend cap reached: 0.0083 of 0.01 USD spent this month',
        details: [
          {
            rule: 'monthly_spend_cap',
            errors: ['monthly spend cap reached: 0.0083 of 0.01 USD spent this month'],
            cap: '0.01',
            month_to_date: '0.0083',
            estimated_cost: estimate[k as keyof typeof estimate],
            currency: 'USD',
          },
        ],
      });
    }
    expect((await history(who)).map((h) => h.channel)).toEqual(['sms']);
  });

  it('destinations: allowed_countries refuses a WhatsApp or MMS send to another country exactly as an SMS', async () => {
    const who = await tenant({ allowed_countries: ['US'] });
    const sms = await send(who, { phone_number: DE }).expect(400);
    const wa = await send(who, { phone_number: DE, channel: 'whatsapp', content_sid: CONTENT_SID }).expect(
      400,
    );
    const mms = await send(who, { phone_number: DE, channel: 'mms', media_urls: MEDIA }).expect(400);
    expect(sms.body.details[0]).toMatchObject({ field: 'phone_number' });
    expect(sms.body.message).toContain('DE');
    // The same refusal, word for word: the destination rule ran before any channel rule.
    expect(wa.body).toEqual(sms.body);
    expect(mms.body).toEqual(sms.body);
    // In a bulk the other country is rejected and the US number goes on WhatsApp.
    const us = freshUs();
    const b = await bulk(who, {
      phone_numbers: [us, DE],
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
    }).expect(202);
    expect(b.body.accepted).toBe(1);
    expect(b.body.rejected).toEqual([{ phone_number: DE, reason: 'country_not_allowed' }]);
    const smsBulk = await bulk(who, { phone_numbers: [freshUs(), DE] }).expect(202);
    expect(smsBulk.body.rejected).toEqual(b.body.rejected);
    await waitForStatus(t, who, b.body.message_ids[0], 'sent');
    expect(requestsTo(`whatsapp:${DE}`)).toEqual([]);
    expect(requestsTo(DE)).toEqual([]);
  });

  it('quiet hours: a promotional WhatsApp or MMS message inside them is scheduled for their end, not sent; a transactional one goes now', async () => {
    const now = new Date();
    const hour = now.getUTCHours();
    const who = await tenant({ quiet_hours: { start: hh(hour - 1), end: hh(hour + 2) }, timezone: 'UTC' });
    // The window's end: hour + 2 of today (UTC), after now even if the hour turns meanwhile.
    const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour + 2));
    const [a, b, c] = [freshUs(), freshUs(), freshUs()];
    const wa = await send(who, {
      phone_number: a,
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      message_type: 'general_notification',
    }).expect(202);
    const mms = await send(who, { phone_number: b, channel: 'mms', media_urls: MEDIA }).expect(202);
    // The answer says scheduled (/send gives no time; the status below does).
    for (const r of [wa, mms]) expect(r.body.status).toBe('scheduled');
    expect(wa.body).toMatchObject({ channel: 'whatsapp', whatsapp_mode: 'template' });
    expect(mms.body.channel).toBe('mms');
    // A transactional WhatsApp message ignores quiet hours: it goes now.
    const urgent = await send(who, {
      phone_number: c,
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      message_type: 'appointment_reminder',
    }).expect(202);
    expect(urgent.body.status).toBe('queued');
    await waitForStatus(t, who, urgent.body.message_id, 'sent');
    expect(sentTo(`whatsapp:${c}`)).toHaveLength(1);
    for (const id of [wa.body.message_id, mms.body.message_id]) {
      const s = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
      expect(s.body).toMatchObject({ status: 'scheduled', scheduled_at: end.toISOString() });
    }
    expect([...requestsTo(`whatsapp:${a}`), ...requestsTo(a), ...requestsTo(b)]).toEqual([]);
    // Leave nothing waiting in the run's shared database.
    for (const id of [wa.body.message_id, mms.body.message_id])
      await t.http().delete(`/api/sms/messages/${id}`).set(t.auth(who)).expect(204);
  });

  it('validity: validity_seconds sets expires_at and Twilio ValidityPeriod on WhatsApp; quiet hours past it refuse a WhatsApp message as an SMS', async () => {
    const who = await tenant();
    const phone = freshUs();
    const res = await send(who, {
      phone_number: phone,
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      validity_seconds: 3600,
      message_type: 'appointment_reminder',
    }).expect(202);
    const status = await waitForStatus(t, who, res.body.message_id, 'sent');
    expect(Date.parse(status.expires_at) - Date.parse(status.created_at)).toBe(3600_000);
    const [req] = requestsTo(`whatsapp:${phone}`);
    expect(req.ContentSid).toBe(CONTENT_SID);
    // Seconds left when it was handed over: at most the hour, and only the moment since acceptance less.
    expect(Number(req.ValidityPeriod)).toBeLessThanOrEqual(3600);
    expect(Number(req.ValidityPeriod)).toBeGreaterThan(3600 - 30);

    // Quiet hours for three hours from now: a 10-minute validity ends inside them.
    const hour = new Date().getUTCHours();
    const quiet = await tenant({ quiet_hours: { start: hh(hour - 1), end: hh(hour + 2) }, timezone: 'UTC' });
    const asSms = await send(quiet, { phone_number: freshUs(), validity_seconds: 600 }).expect(400);
    const asWa = await send(quiet, {
      phone_number: freshUs(),
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      validity_seconds: 600,
    }).expect(400);
    const asMms = await send(quiet, {
      phone_number: freshUs(),
      channel: 'mms',
      media_urls: MEDIA,
      validity_seconds: 600,
    }).expect(400);
    for (const r of [asSms, asWa, asMms]) expect(r.body.details[0].field).toBe('validity_seconds');
    expect(asWa.body.message.replace(/\d{4}-[\d:.TZ-]+/g, 'T')).toBe(
      asSms.body.message.replace(/\d{4}-[\d:.TZ-]+/g, 'T'),
    );
    const b = await bulk(quiet, {
      phone_numbers: [freshUs()],
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      validity_seconds: 600,
    }).expect(400);
    expect(b.body.details[0].rejected[0].reason).toBe('validity_ends_in_quiet_hours');
    expect(await history(quiet)).toEqual([]);
  });

  it("status callbacks: a WhatsApp message's sent, delivered and failed events reach its status_callback_url and the tenant's endpoint, signed", async () => {
    const who = await tenant();
    const ep = await t
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(t.auth(who))
      .send({
        url: `${callbacks}/wa-tenant`,
        events: ['message.sent', 'message.delivered', 'message.failed'],
      })
      .expect(201);
    const secret = ep.body.secret as string;
    const phone = freshUs();
    const res = await send(who, {
      phone_number: phone,
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      status_callback_url: `${callbacks}/wa-message`,
    }).expect(202);
    const id = res.body.message_id as string;
    await waitForStatus(t, who, id, 'sent');
    const [wa] = sentTo(`whatsapp:${phone}`);
    await twilioReceipt(wa.sid, wa.accountSid, 'delivered');
    await waitForStatus(t, who, id, 'delivered');

    // A WhatsApp message Twilio refuses for good: message.failed.
    const refused = freshUs();
    twilioFake.failTo(`whatsapp:${refused}`, twilioError(400, 63016, 'Failed to send freeform message'));
    const bad = await send(who, {
      phone_number: refused,
      channel: 'whatsapp',
      content_sid: CONTENT_SID,
      status_callback_url: `${callbacks}/wa-message`,
    }).expect(202);
    await waitForStatus(t, who, bad.body.message_id, 'failed');

    const expected = { '/wa-message': 3, '/wa-tenant': 3 };
    const seen = () => Object.fromEntries(Object.keys(expected).map((p) => [p, receiver.on(p).length]));
    await eventually(
      async () => (Object.entries(expected).every(([p, n]) => receiver.on(p).length >= n) ? true : undefined),
      20_000,
      'the callbacks',
    ).catch(() => undefined);
    expect(seen()).toEqual(expected);
    for (const path of Object.keys(expected)) {
      const got = receiver.on(path);
      expect(
        got.every((r) =>
          verifyWebhookSignature(secret, r.headers[SIGNATURE_HEADER.toLowerCase()] as string, r.raw, 300),
        ),
      ).toBe(true);
      const events = got.map((r) => [r.json.type, r.json.data.message_id]).sort();
      expect(events).toEqual(
        [
          ['message.delivered', id],
          ['message.failed', bad.body.message_id],
          ['message.sent', id],
        ].sort(),
      );
      const delivered = got.find((r) => r.json.type === 'message.delivered');
      expect(delivered?.json.data).toMatchObject({
        status: 'delivered',
        previous_status: 'sent',
        phone_number: phone, // the number, without Twilio's whatsapp: prefix
        channel: 'whatsapp',
        provider: 'twilio',
        provider_message_id: wa.sid,
      });
      const failed = got.find((r) => r.json.type === 'message.failed');
      expect(failed?.json.data).toMatchObject({
        phone_number: refused,
        channel: 'whatsapp',
        error_code: expect.stringContaining('63016'),
      });
    }
  });
});
