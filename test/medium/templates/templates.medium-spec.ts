import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { TemplatedSender, TemplatesModule, TemplatesService } from '../../../src/templates';
import type { TemplateInput } from '../../../src/templates/templates.service';
import { freshTenantId, newTenant } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext } from '../medium-context';

const welcome: TemplateInput = {
  templateId: 'welcome_message',
  name: 'Welcome Message',
  content: {
    en: 'Welcome {{name}}! Your account has been created.',
    tr: 'Hoş geldiniz {{name}}! Hesabınız oluşturuldu.',
  },
  messageType: 'general_notification',
  variables: ['name'],
};

const appointmentVars = {
  date: 'March 15, 2024',
  time: '2:00 PM',
  trainer_name: 'John Doe',
  location: 'Training Room A',
};

describe('TemplatesService and TemplatedSender', () => {
  let ctx: MediumContext;
  let templates: TemplatesService;
  let sender: TemplatedSender;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [TemplatesModule, PhoneModule, MonitoringModule] });
    templates = ctx.get(TemplatesService);
    sender = ctx.get(TemplatedSender);
  });
  afterAll(() => ctx.close());

  /** A tenant admin of a fresh tenant. */
  const admin = () => principal(freshTenantId(), 'admin-1', ['admin']);
  const stored = async (tenant: number) =>
    (await ctx.ds.query('SELECT body FROM sms_messages WHERE tenant_id = $1', [tenant])) as {
      body: string;
    }[];

  it('lists the defaults (five message templates, four keyword replies) to every tenant', async () => {
    const rows = await templates.list(freshTenantId());
    expect(rows.map((x) => x.templateId).sort()).toEqual([
      '2fa_code',
      'appointment_reminder',
      'assessment_notification',
      'general_notification',
      'keyword_help',
      'keyword_start',
      'keyword_start_kept',
      'keyword_stop',
      'password_reset',
    ]);
    const reminder = rows.find((x) => x.templateId === 'appointment_reminder');
    expect(reminder).toMatchObject({
      tenantId: null, // a built-in default
      variables: ['date', 'time', 'trainer_name', 'location'],
    });
    expect(reminder?.content.tr).toContain('randevunuz');
  });

  it('rejects placeholders that do not match the declared variables, naming the difference', async () => {
    const who = admin();
    await expect(
      templates.create(
        who.tenantId,
        { ...welcome, content: { ...welcome.content, tr: 'Hoş geldiniz {{ad}}!' } },
        who,
      ),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'content_tr uses undeclared ad; content_tr does not use declared name',
      details: [expect.objectContaining({ field: 'content_tr', undeclared: ['ad'], unused: ['name'] })],
    });
  });

  it("shadows a default with the tenant's own template, and shows the default again when it is deleted", async () => {
    const who = admin();
    await templates.create(
      who.tenantId,
      {
        templateId: '2fa_code',
        name: 'Our 2FA',
        content: { en: 'ACME code: {{code}}' },
        messageType: '2fa_code',
        variables: ['code'],
      },
      who,
    );
    const mine = await templates.get(who.tenantId, '2fa_code');
    expect(mine).toMatchObject({ content: { en: 'ACME code: {{code}}' }, tenantId: who.tenantId });
    expect((await templates.get(freshTenantId(), '2fa_code')).tenantId).toBeNull();
    await templates.deactivate(who.tenantId, '2fa_code', who);
    expect((await templates.get(who.tenantId, '2fa_code')).tenantId).toBeNull();
  });

  it('refuses a tenant copy of a code template that changes its message type', async () => {
    const who = admin();
    await expect(
      templates.create(
        who.tenantId,
        {
          templateId: '2fa_code',
          name: 'Our 2FA',
          content: { en: 'ACME code: {{code}}' },
          messageType: 'general_notification',
          variables: ['code'],
        },
        who,
      ),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'template "2fa_code" must have message_type 2fa_code',
    });
  });

  it('answers a conflict, not a crash, when the same template is created twice at once', async () => {
    const who = admin();
    const outcomes = await Promise.allSettled([1, 2].map(() => templates.create(who.tenantId, welcome, who)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const [refused] = outcomes.filter((o) => o.status === 'rejected');
    expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' });
  });

  it('keeps both of two concurrent updates: the version counts each', async () => {
    const who = admin();
    await templates.create(who.tenantId, welcome, who);
    await Promise.all([
      templates.update(who.tenantId, 'welcome_message', { name: 'A' }, who),
      templates.update(who.tenantId, 'welcome_message', { content: { tr: 'Selam {{name}}' } }, who),
    ]);
    expect(await templates.get(who.tenantId, 'welcome_message')).toMatchObject({
      version: 3,
      name: 'A',
      content: { tr: 'Selam {{name}}' },
    });
  });

  it('refuses to change or delete a built-in default', async () => {
    const who = admin();
    await expect(templates.deactivate(who.tenantId, 'password_reset', who)).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('built-in default'),
    });
    await expect(templates.update(who.tenantId, 'password_reset', { name: 'x' }, who)).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it('increments the version on a replace (PUT) and a partial change (PATCH), keeping languages not given', async () => {
    const who = admin();
    await templates.create(who.tenantId, welcome, who);
    // What PUT hands over: every field, the languages the body has.
    const put = await templates.update(
      who.tenantId,
      'welcome_message',
      {
        name: 'Welcome',
        content: { en: 'Hi {{name}}' },
        messageType: 'general_notification',
        variables: ['name'],
      },
      who,
    );
    expect(put).toMatchObject({
      version: 2,
      content: { en: 'Hi {{name}}', tr: 'Hoş geldiniz {{name}}! Hesabınız oluşturuldu.' },
    });
    const patch = await templates.update(
      who.tenantId,
      'welcome_message',
      { content: { tr: 'Selam {{name}}' } },
      who,
    );
    expect(patch).toMatchObject({ version: 3, content: { tr: 'Selam {{name}}' } });
    await expect(
      templates.update(who.tenantId, 'welcome_message', { variables: ['name', 'extra'] }, who),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('refuses a send of an inactive or unknown template, naming the id and the tenant', async () => {
    const who = admin();
    await templates.create(who.tenantId, welcome, who);
    await templates.deactivate(who.tenantId, 'welcome_message', who);
    const refused = sender.send(sendContext(who), {
      phoneNumber: '+12025550123',
      templateId: 'welcome_message',
      variables: { name: 'Ayşe' },
    });
    await expect(refused).rejects.toMatchObject({ code: 'not_found' });
    const message = ((await refused.catch((e: unknown) => e)) as Error).message;
    expect(message).toContain('template not found');
    expect(message).toContain('"welcome_message"');
    expect(message).toContain(`tenant ${who.tenantId}`);
    const inactive = await templates.list(who.tenantId, { includeInactive: true });
    expect(inactive.find((x) => x.templateId === 'welcome_message')).toMatchObject({ isActive: false });
  });

  it('previews with the encoding, segments and missing variables', async () => {
    const r = await templates.preview(
      freshTenantId(),
      'appointment_reminder',
      { date: '15 Mart 2024', time: '14:00' },
      'tr',
    );
    expect(r).toMatchObject({
      analysis: expect.objectContaining({ encoding: 'UCS-2' }),
      missing: ['trainer_name', 'location'],
      languageUsed: 'tr',
    });
    expect(r.text).toContain('15 Mart 2024');
  });

  it('sends in Turkish, and falls back to English when the template has no Turkish text', async () => {
    // english_only is a general notification (promotional): no consent asked here (docs/privacy.md).
    const tenant = await newTenant(ctx.ds, {
      settings: { allowed_countries: ['US', 'TR'], promotional_consent: 'not_required' },
    });
    const who = principal(tenant, 'admin-1', ['admin']);
    const tr = await sender.send(sendContext(who), {
      phoneNumber: '+905321234567',
      templateId: 'appointment_reminder',
      variables: appointmentVars,
      language: 'tr',
    });
    expect(tr.result).toMatchObject({ language: 'tr', encoding: 'UCS-2' });
    await templates.create(
      tenant,
      {
        templateId: 'english_only',
        name: 'E',
        content: { en: 'Hello {{name}}' },
        messageType: 'general_notification',
        variables: ['name'],
      },
      who,
    );
    const en = await sender.send(sendContext(who), {
      phoneNumber: '+905321234567',
      templateId: 'english_only',
      variables: { name: 'Ayşe' },
      language: 'tr',
    });
    expect(en.result.language).toBe('en');
  });

  it("uses the tenant's default language when none is asked for", async () => {
    const tenant = await newTenant(ctx.ds, {
      name: 'Ankara',
      settings: { default_language: 'tr', allowed_countries: ['US', 'TR'] },
    });
    const res = await sender.send(sendContext(principal(tenant)), {
      phoneNumber: '+905321234567',
      templateId: 'assessment_notification',
      variables: { assessment_name: 'İSG', due_date: '20 Mart' },
    });
    expect(res.result.language).toBe('tr');
  });

  it('refuses a send listing every missing variable, and for unknown or oversized ones, storing nothing', async () => {
    const who = admin();
    await expect(
      sender.send(sendContext(who), {
        phoneNumber: '+12025550123',
        templateId: 'appointment_reminder',
        variables: { date: 'today' },
      }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'missing variables: time, trainer_name, location',
      details: [expect.objectContaining({ missing: ['time', 'trainer_name', 'location'] })],
    });
    await expect(
      sender.send(sendContext(who), {
        phoneNumber: '+12025550123',
        templateId: 'password_reset',
        variables: { code: '1', extra: 'x' },
      }),
    ).rejects.toMatchObject({ code: 'validation_failed', message: 'unknown variables: extra' });
    await expect(
      sender.send(sendContext(who), {
        phoneNumber: '+12025550123',
        templateId: 'general_notification',
        variables: { message: 'x'.repeat(201) },
      }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ field: 'variables.message' })],
    });
    expect(await stored(who.tenantId)).toEqual([]);
  });

  it('never evaluates a value and strips its control characters', async () => {
    const who = principal(freshTenantId());
    const res = await sender.send(sendContext(who), {
      phoneNumber: '+12025550123',
      templateId: 'general_notification',
      variables: { message: '${process.env.JWT_SECRET}\u0007 {{code}}' },
    });
    expect(await stored(who.tenantId)).toEqual([{ body: '${process.env.JWT_SECRET} {{code}}' }]);
    expect(res.result.templateId).toBe('general_notification');
  });
});
