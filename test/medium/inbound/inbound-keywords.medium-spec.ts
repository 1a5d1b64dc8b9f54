import { randomBytes, randomInt } from 'node:crypto';
import { InboundModule, InboundService } from '../../../src/inbound';
import { AcceptService, OptOutsService } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import type { TenantSettings } from '../../../src/tenancy';
import { newMessages, newTemplate, newTenant } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

const OUR_NUMBER = '+15005550006';
const sid = () => `SM${randomBytes(16).toString('hex')}`;
/** A phone no other test texts: a STOP on our shared number reaches every tenant's list. */
const freshPhone = () => `+1312555${String(randomInt(0, 10_000)).padStart(4, '0')}`;

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
    await newMessages(ctx.ds, { tenant, phone });
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
});
