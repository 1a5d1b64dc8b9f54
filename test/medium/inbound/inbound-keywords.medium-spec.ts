import { randomBytes, randomInt } from 'node:crypto';
import { InboundModule, InboundService } from '../../../src/inbound';
import { AcceptService, OptOutsService } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import type { TenantSettings } from '../../../src/tenancy';
import { markSent, newMessages, newOptOut, newTemplate, newTenant } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

const OUR_NUMBER = '+15005550006';
const sid = () => `SM${randomBytes(16).toString('hex')}`;
/** A phone no other test texts: a STOP on our shared number reaches every tenant's list. */
let nextPhone = randomInt(0, 10_000);
const freshPhone = () => `+1312555${String(nextPhone++ % 10_000).padStart(4, '0')}`;

/**
 * What InboundService does with a text once the webhook has verified and parsed it: keyword
 * routing (STOP/START/HELP, built-in and the tenant's own), the opt-out list, the reply, events.
 * The webhook itself (signature, TwiML, provider fields) is tested in test/inbound.
 */
describe('InboundService: keywords', () => {
  let ctx: MediumContext;
  let inbound: InboundService;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [InboundModule, PhoneModule, MonitoringModule] });
    inbound = ctx.get(InboundService);
  });
  afterAll(() => ctx.close());

  /** A text from `from` to our number, as the Twilio webhook hands it over. */
  const text = (from: string, body: string, providerMessageId = sid()) =>
    inbound.receive({
      provider: 'twilio',
      from,
      to: OUR_NUMBER,
      body,
      providerMessageId,
      receivedAt: ctx.clock.now(),
    });
  /** As POST /api/sms/send: throws when the number is on the tenant's opt-out list. */
  const send = (tenant: number, phone: string) =>
    ctx.get(AcceptService).accept(sendContext(principal(tenant)), textSend(phone));
  const optedOut = { code: 'validation_failed', message: expect.stringContaining('opted out') };

  /** A tenant that has texted `phone` (so replies from it are the tenant's). */
  async function tenantTexting(phone: string, settings?: TenantSettings): Promise<number> {
    const tenant = await newTenant(ctx.ds, { settings });
    // Texted: handed to a provider (an accepted message that is not out yet answers nobody).
    await markSent(ctx.ds, await newMessages(ctx.ds, { tenant, phone }));
    return tenant;
  }

  it.each([
    ['STOP', 'en'],
    [' stop ', 'en'],
    ['StopAll', 'en'],
    ['unsubscribe', 'en'],
    ['Cancel', 'en'],
    ['END', 'en'],
    ['quit', 'en'],
    ['OPTOUT', 'en'],
    ['iptal', 'tr'],
    ['İPTAL', 'tr'],
    ['Iptal', 'tr'],
    ['RET', 'tr'],
    ['dur', 'tr'],
  ])(
    'opts the sender out on %j, replies in %s, refuses the next send; START lets it through',
    async (word, lang) => {
      const phone = freshPhone();
      const tenant = await tenantTexting(phone);
      const other = await tenantTexting(phone);
      const res = await text(phone, word);
      expect(res.reply).toContain(lang === 'en' ? 'You are unsubscribed' : 'Aboneliğiniz iptal edildi');
      // Every tenant that sends from the shared number stops texting the phone.
      for (const who of [tenant, other]) await expect(send(who, phone)).rejects.toMatchObject(optedOut);
      expect(await ctx.get(OptOutsService).list(tenant)).toEqual([
        expect.objectContaining({
          phoneNumber: phone,
          source: 'inbound_keyword',
          reason: expect.any(String),
        }),
      ]);
      expect(await inbound.list(other, { keyword: 'stop', limit: 50 })).toEqual([
        expect.objectContaining({ keyword: 'stop', language: lang }),
      ]);
      await text(phone, lang === 'en' ? 'start' : 'başla');
      await send(tenant, phone);
      await send(other, phone);
    },
  );

  it.each([
    ['START', 'en', 'You are subscribed again'],
    ['unstop', 'en', 'You are subscribed again'],
    ['Yes', 'en', 'You are subscribed again'],
    ['başla', 'tr', 'Aboneliğiniz yeniden başladı'],
    ['BAŞLA', 'tr', 'Aboneliğiniz yeniden başladı'],
    ['BASLA', 'tr', 'Aboneliğiniz yeniden başladı'],
  ])('takes the sender off the list on %j (%s)', async (word, _lang, reply) => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone);
    await text(phone, 'STOP');
    await expect(send(tenant, phone)).rejects.toMatchObject(optedOut);
    const res = await text(phone, word);
    expect(res.reply).toContain(reply);
    await send(tenant, phone);
  });

  it.each([
    ['HELP', 'Reply STOP to unsubscribe. Msg&data rates may apply.'],
    ['info', 'Reply STOP to unsubscribe. Msg&data rates may apply.'],
    ['yardım', 'Aboneliği iptal etmek için IPTAL yazın. Operatör ücretleri uygulanabilir.'],
    ['YARDIM', 'Aboneliği iptal etmek için IPTAL yazın. Operatör ücretleri uygulanabilir.'],
    ['Bilgi', 'Aboneliği iptal etmek için IPTAL yazın. Operatör ücretleri uygulanabilir.'],
    ['BİLGİ', 'Aboneliği iptal etmek için IPTAL yazın. Operatör ücretleri uygulanabilir.'],
  ])('answers %j with the help text in its language and changes nothing', async (word, reply) => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone);
    const res = await text(phone, word);
    expect(res.reply).toBe(reply);
    await send(tenant, phone);
  });

  it("answers HELP with the tenant's own help template and honours its own keywords", async () => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone, {
      default_language: 'tr',
      inbound_keywords: { stop: ['durdur'], help: ['destek'] },
    });
    const other = await tenantTexting(freshPhone()); // never texted `phone`
    await newTemplate(ctx.ds, {
      tenant,
      templateId: 'keyword_help',
      name: 'our help',
      content: { en: 'Call us on 555-0100 & ask', tr: 'Bizi 555-0100 numarasından arayın' },
    });
    expect((await text(phone, 'help')).reply).toBe('Call us on 555-0100 & ask');
    expect((await text(phone, 'Destek')).reply).toBe('Bizi 555-0100 numarasından arayın');
    // A tenant's own STOP word opts out from that tenant only.
    expect((await text(phone, 'DURDUR')).reply).toContain('Aboneliğiniz iptal edildi');
    await expect(send(tenant, phone)).rejects.toMatchObject(optedOut);
    await send(other, phone);
  });

  it('acts once on a redelivered webhook (same MessageSid) and records each change as an event', async () => {
    const phone = freshPhone();
    const tenant = await tenantTexting(phone);
    const messageSid = sid();
    for (let i = 0; i < 2; i += 1) await text(phone, 'STOP', messageSid);
    expect(await inbound.list(tenant, { limit: 50 })).toHaveLength(1);
    await text(phone, 'START');
    const events: { action: string; keyword: string; actor: string; inbound_message_id: string }[] =
      await ctx.ds.query(
        'SELECT action, keyword, actor, inbound_message_id FROM sms_opt_out_events WHERE tenant_id = $1 AND phone_number = $2 ORDER BY id',
        [tenant, phone],
      );
    const items = await inbound.list(tenant, { limit: 50 });
    expect(events).toEqual([
      { action: 'opt_out', keyword: 'STOP', actor: phone, inbound_message_id: items[1].id },
      { action: 'opt_in', keyword: 'START', actor: phone, inbound_message_id: items[0].id },
    ]);
  });

  describe('across tenants on the shared number', () => {
    /** A text from `from` that Twilio read itself (its Advanced Opt-Out sends OptOutType). */
    const carrierText = (from: string, body: string, optOutType: 'stop' | 'start') =>
      inbound.receive({
        provider: 'twilio',
        from,
        to: OUR_NUMBER,
        body,
        providerMessageId: sid(),
        receivedAt: ctx.clock.now(),
        optOutType,
      });
    /** An admin's opt-out, as POST /api/sms/opt-outs writes it. */
    const adminOptOut = (tenant: number, phone: string) =>
      ctx.get(OptOutsService).add(tenant, phone, 'admin:admin-1', 'asked by phone', { actor: 'admin-1' });
    const listed = async (tenant: number, phone: string) =>
      (await ctx.get(OptOutsService).list(tenant)).find((o) => o.phoneNumber === phone);
    const events = (tenant: number, phone: string) =>
      ctx.ds.query(
        `SELECT action, source, keyword, answered_tenant_id FROM sms_opt_out_events
          WHERE tenant_id = $1 AND phone_number = $2 ORDER BY id`,
        [tenant, phone],
      ) as Promise<Record<string, unknown>[]>;

    it("lifts a keyword STOP on START but never another tenant's admin opt-out", async () => {
      const phone = freshPhone();
      const withAdmin = await tenantTexting(phone);
      const answered = await tenantTexting(phone); // texted last: the STOP and START answer it
      await adminOptOut(withAdmin, phone);
      await text(phone, 'STOP');
      expect((await text(phone, 'START')).reply).toContain('You are subscribed again');
      await send(answered, phone);
      await expect(send(withAdmin, phone)).rejects.toMatchObject(optedOut);
      expect(await listed(withAdmin, phone)).toMatchObject({
        source: 'admin:admin-1',
        reason: 'asked by phone',
      });
      // The admin's entry saw no change: no opt_in event, no STOP over it either.
      expect(await events(withAdmin, phone)).toEqual([
        { action: 'opt_out', source: 'admin:admin-1', keyword: null, answered_tenant_id: null },
      ]);
    });

    it("answers a START that left the answered tenant's admin opt-out in place with keyword_start_kept", async () => {
      const phone = freshPhone();
      const tenant = await tenantTexting(phone);
      await adminOptOut(tenant, phone);
      const res = await text(phone, 'START');
      expect(res.reply).toBe('You are still unsubscribed. Please contact the sender to subscribe again.');
      await expect(send(tenant, phone)).rejects.toMatchObject(optedOut);
      expect((await text(phone, 'BASLA')).reply).toBe(
        'Aboneliğiniz kapalı kalıyor. Tekrar abone olmak için gönderenle iletişime geçin.',
      );
    });

    it('keeps an opt-out the provider reported (Twilio 21610) until the provider reports a START', async () => {
      const phone = freshPhone();
      const tenant = await tenantTexting(phone);
      await newOptOut(ctx.ds, { tenant, phone, source: 'provider', reason: 'twilio:21610' });
      // A START we read ourselves may not have reached the carrier that blocks the number.
      expect((await text(phone, 'START')).reply).toContain('You are still unsubscribed');
      await expect(send(tenant, phone)).rejects.toMatchObject(optedOut);
      // Twilio's own START (OptOutType): the carrier lifted its block, and so do we.
      expect((await carrierText(phone, 'start', 'start')).reply).toBeNull();
      await send(tenant, phone);
    });

    it("records on every tenant's opt-out and event the tenant whose text the STOP answered", async () => {
      const phone = freshPhone();
      const first = await tenantTexting(phone);
      const answered = await tenantTexting(phone);
      const never = await newTenant(ctx.ds); // never texted the phone: opted out all the same
      const stop = await text(phone, 'STOP');
      for (const t of [first, answered, never]) {
        await expect(send(t, phone)).rejects.toMatchObject(optedOut);
        expect(await listed(t, phone)).toMatchObject({
          source: 'inbound_keyword',
          answeredTenantId: answered,
        });
        expect(await events(t, phone)).toEqual([
          { action: 'opt_out', source: 'inbound_keyword', keyword: 'STOP', answered_tenant_id: answered },
        ]);
      }
      const [row] = await inbound.list(answered, { limit: 50 });
      expect(row.id).toBe(stop.row.id);
      // The START's events name the tenant it answered too.
      await text(phone, 'START');
      expect((await events(first, phone))[1]).toEqual({
        action: 'opt_in',
        source: 'inbound_keyword',
        keyword: 'START',
        answered_tenant_id: answered,
      });
    });

    it('does not give a reply to a tenant whose message to the number is only accepted, not sent', async () => {
      const phone = freshPhone();
      const a = await tenantTexting(phone);
      const b = await newTenant(ctx.ds);
      await newMessages(ctx.ds, { tenant: b, phone }); // queued (or scheduled for next month): not out yet
      await text(phone, 'See you at 5');
      expect((await inbound.list(a, { limit: 50 })).map((r) => r.body)).toEqual(['See you at 5']);
      expect(await inbound.list(b, { limit: 50 })).toEqual([]);
    });

    it("gives a reply to the tenant that texted the number last, and answers it with that tenant's template", async () => {
      const phone = freshPhone();
      const a = await tenantTexting(phone);
      const b = await tenantTexting(phone); // B texted after A
      await newTemplate(ctx.ds, {
        tenant: b,
        templateId: 'keyword_help',
        content: { en: 'B help: call 555-0199' },
      });
      await text(phone, 'See you at 5');
      expect((await text(phone, 'HELP')).reply).toBe('B help: call 555-0199');
      expect((await inbound.list(b, { limit: 50 })).map((r) => r.body)).toEqual(['HELP', 'See you at 5']);
      expect(await inbound.list(a, { limit: 50 })).toEqual([]);
    });
  });
});
