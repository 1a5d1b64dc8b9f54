import { randomUUID } from 'node:crypto';
import { AcceptService, MessagingModule, PlannedInput } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { newTenant } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

const TR = 'Merhaba Ayşe, yarınki dersiniz “Güvenlik” saat 14:00’te.';
const TR_GSM = 'Merhaba Ayse, yarinki dersiniz "Güvenlik" saat 14:00\'te.';

describe('smart encoding on the accept path (campaign pages, secrets)', () => {
  let ctx: MediumContext;
  let accepting: AcceptService;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [MessagingModule, PhoneModule, MonitoringModule] });
    accepting = ctx.get(AcceptService);
  });
  afterAll(() => ctx.close());

  const page = (tenantId: number, extra: Partial<PlannedInput> = {}): PlannedInput => ({
    tenantId,
    createdBy: 'admin-1',
    campaignId: randomUUID(),
    messageType: 'general_notification',
    transactional: true,
    templateId: 'lesson',
    messages: [
      { recipientUserId: 'r1', phoneNumber: '+12025550141', timezone: null, language: 'tr', body: TR },
      { recipientUserId: 'r2', phoneNumber: '+12025550142', timezone: null, language: 'en', body: 'Hello' },
    ],
    ...extra,
  });

  const stored = (campaignId: string) =>
    ctx.ds.query(
      'SELECT recipient_user_id, body, encoding, segments FROM sms_messages WHERE campaign_id = $1 ORDER BY recipient_user_id',
      [campaignId],
    );

  it('writes a campaign page as sent: transliterated for a transliterate tenant, as written for an exact template', async () => {
    const tenant = await newTenant(ctx.ds, { settings: { smart_encoding: 'transliterate' } });
    const hooks = { before: () => Promise.resolve(true), after: () => Promise.resolve() };
    const input = page(tenant);
    await accepting.acceptPlanned(input, hooks);
    expect(await stored(input.campaignId)).toEqual([
      { recipient_user_id: 'r1', body: TR_GSM, encoding: 'GSM-7', segments: 1 },
      { recipient_user_id: 'r2', body: 'Hello', encoding: 'GSM-7', segments: 1 },
    ]);
    const exact = page(tenant, { exact: true });
    await accepting.acceptPlanned(exact, hooks);
    expect((await stored(exact.campaignId))[0]).toEqual({
      recipient_user_id: 'r1',
      body: TR,
      encoding: 'UCS-2',
      segments: 1,
    });
  });

  it('previews a campaign page with the text as it would be sent', async () => {
    const transliterate = await newTenant(ctx.ds, { settings: { smart_encoding: 'transliterate' } });
    const preview = await accepting.previewPlanned(page(transliterate));
    expect(preview.accepted[0]).toMatchObject({ text: TR_GSM, encoding: 'GSM-7', segments: 1 });
    const byDefault = await accepting.previewPlanned(page(await newTenant(ctx.ds)));
    expect(byDefault.accepted[0]).toMatchObject({ text: TR, encoding: 'UCS-2' });
  });

  it('never changes a text that carries a secret', async () => {
    const tenant = await newTenant(ctx.ds, { settings: { smart_encoding: 'transliterate' } });
    const who = principal(tenant, 'admin-1', ['admin']);
    const res = await accepting.accept(
      sendContext(who),
      textSend('+12025550143', 'Kodunuz: 4321 – kimseyle paylaşmayın', { secrets: ['4321'] }),
    );
    expect(res.result).toMatchObject({ encoding: 'UCS-2', smartEncoding: null });
    const [row] = await ctx.ds.query('SELECT body FROM sms_messages WHERE id = $1', [
      res.result.messages[0].id,
    ]);
    expect(row.body).toBe('Kodunuz: ****** – kimseyle paylaşmayın');
  });
});
