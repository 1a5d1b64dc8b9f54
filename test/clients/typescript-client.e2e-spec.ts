import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSmsClient,
  NotFoundError,
  ServiceUnavailableError,
  SmsApiError,
  SmsClient,
  SmsConnectionError,
  SpendCapError,
  ValidationError,
  verifyWebhookSignature,
} from '../../clients/typescript/src';
import { signWebhook } from '../../src/callbacks';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/**
 * Issue 9: the typed TypeScript client (clients/typescript) against the real app listening on a
 * port, through openapi-fetch and Node's fetch, as another Node service would call it.
 */
const root = join(__dirname, '..', '..');
const SCHEMA = join(root, 'clients', 'typescript', 'src', 'schema.ts');

describe('TypeScript client (clients/typescript)', () => {
  let t: TestApp;
  let baseUrl: string;
  const sentHeaders: Headers[] = [];

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        WEBHOOK_ALLOW_INSECURE: 'true',
        WEBHOOK_DISPATCH_INTERVAL_MS: '20',
        SANDBOX_DELIVERY_DELAY_MS: '10',
        TWILIO_WHATSAPP_FROM: '+14155238886',
      },
    });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  /** A client for a user of `tenant`; every request's headers are recorded. */
  const client = (tenant: number, roles: string[] = [], user = 'ts-user'): SmsClient =>
    createSmsClient({
      baseUrl,
      token: t.token({ tenant, user, roles }),
      fetch: (req) => {
        sentHeaders.push(new Headers(req.headers));
        return fetch(req);
      },
    });

  it('has generated types that match the committed openapi.json (npm run client:types)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sms-client-types-'));
    try {
      const out = join(dir, 'schema.ts');
      // The generator's arguments as `npm run client:types` passes them, writing elsewhere.
      const script = (
        JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
      ).scripts;
      const args = script['client:types'].split('&&')[0].trim().split(/\s+/);
      expect(args.slice(0, 4)).toEqual([
        'openapi-typescript',
        'openapi.json',
        '-o',
        'clients/typescript/src/schema.ts',
      ]);
      args.splice(
        0,
        4,
        join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
        'openapi.json',
        '-o',
        out,
      );
      execFileSync(process.execPath, args, { cwd: root, stdio: 'pipe' });
      // Formatted as the script does (prettier with the repository's settings for that path).
      const fresh = execFileSync(
        process.execPath,
        [join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--stdin-filepath', SCHEMA],
        { cwd: root, input: readFileSync(out), encoding: 'utf8' },
      );
      // Stale types: run `npm run client:types` (`npm run openapi` runs it too) and commit schema.ts.
      expect(readFileSync(SCHEMA, 'utf8') === fresh).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends, reads the status, and puts an Idempotency-Key on every send', async () => {
    const sms = client(freshTenantId());
    const sent = await sms.send({
      phone_number: '+12025550123',
      message: 'Your appointment is tomorrow at 2 PM',
      message_type: 'appointment_reminder',
    });
    expect(sent).toMatchObject({ success: true, status: 'queued', segments: 1 });
    const key = sentHeaders.at(-1)?.get('idempotency-key');
    expect(key).toMatch(/^[0-9a-f-]{36}$/);

    const status = await sms.status(sent.message_id);
    expect(status.message_id).toBe(sent.message_id);
    expect(status.status).toMatch(/^(queued|sending|sent|delivered)$/);

    // A new key per call: the same text twice is two messages ...
    const again = await sms.send({
      phone_number: '+12025550123',
      message: 'Your appointment is tomorrow at 2 PM',
    });
    expect(again.message_id).not.toBe(sent.message_id);
    // ... unless the caller passes one: then the first answer again, nothing sent twice.
    const first = await sms.send(
      { phone_number: '+12025550123', message: 'hello' },
      { idempotencyKey: 'ts-k1' },
    );
    const replay = await sms.send(
      { phone_number: '+12025550123', message: 'hello' },
      { idempotencyKey: 'ts-k1' },
    );
    expect(replay.message_id).toBe(first.message_id);
    expect(sentHeaders.at(-1)?.get('idempotency-key')).toBe('ts-k1');

    const page = await sms.history({ limit: 10 });
    expect(page.items.map((m) => m.message_id)).toEqual(
      expect.arrayContaining([sent.message_id, again.message_id, first.message_id]),
    );
  });

  it('rejects bad input with a typed 400 carrying the error body and its details', async () => {
    const sms = client(freshTenantId());
    const err = await sms.send({ phone_number: '123', message: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toBeInstanceOf(SmsApiError);
    const e = err as ValidationError;
    expect(e.statusCode).toBe(400);
    expect(e.error).toBe('Bad Request');
    expect(e.message).toMatch(/phone_number/);
    expect(e.details?.[0]?.field).toBe('phone_number');
    expect(e.body).toMatchObject({ statusCode: 400, error: 'Bad Request', details: expect.any(Array) });
    expect(e.requestId).toBeTruthy();
  });

  it("rejects a send past the tenant's spend cap with a typed 402, not retried", async () => {
    // The service's 402 (its shape is checked in test/messaging/channels-policies.e2e-spec.ts); the
    // sandbox this app runs prices a text at 0, so no cap is reached here.
    const detail = {
      rule: 'monthly_spend_cap',
      errors: ['monthly spend cap reached: 1 of 1 USD spent this month'],
      cap: '1',
      month_to_date: '1',
      estimated_cost: '0.0079',
      currency: 'USD',
    };
    let calls = 0;
    const capped = createSmsClient({
      baseUrl: 'http://sms.test',
      token: 't',
      fetch: async () => {
        calls += 1;
        return new Response(
          JSON.stringify({
            statusCode: 402,
            error: 'Payment Required',
            message: detail.errors[0],
            details: [detail],
          }),
          { status: 402, headers: { 'Content-Type': 'application/json' } },
        );
      },
    });
    const err = await capped
      .send({ phone_number: '+12025550123', message: 'over the cap' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpendCapError);
    expect(err).toBeInstanceOf(SmsApiError);
    expect((err as SpendCapError).statusCode).toBe(402);
    expect((err as SpendCapError).details).toEqual([detail]);
    expect(calls).toBe(1);
  });

  it('sends on another channel (WhatsApp template, MMS refusal) and reads stats by channel', async () => {
    const sms = client(freshTenantId(), ['admin']);
    const sent = await sms.send({
      phone_number: '+12025550123',
      message: 'Your order has shipped',
      channel: 'whatsapp',
      content_sid: 'HX' + '1'.repeat(32),
      content_variables: { '1': 'Ada' },
      fallback_channel: 'sms',
    });
    expect(sent).toMatchObject({ channel: 'whatsapp', whatsapp_mode: 'template' });
    const status = await sms.status(sent.message_id);
    expect(status).toMatchObject({ channel: 'whatsapp', fallback_channel: 'sms' });
    const err = await sms
      .send({
        phone_number: '+12025550123',
        message: 'hi',
        channel: 'mms',
        media_urls: ['http://a.example/x.jpg'],
      })
      .catch((e: unknown) => e);
    expect((err as ValidationError).details?.[0]?.field).toBe('media_urls');
    const stats = await sms.channelStats();
    expect(stats.by_channel.map((c) => c.channel)).toEqual(['whatsapp']);
  });

  it("answers another tenant's message with a typed 404", async () => {
    const owner = client(freshTenantId());
    const { message_id } = await owner.send({ phone_number: '+12025550123', message: 'mine' });
    const other = client(freshTenantId(), ['admin']);
    const err = await other.status(message_id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).statusCode).toBe(404);
    expect((err as NotFoundError).body.statusCode).toBe(404);
    await expect(other.cancel(message_id)).rejects.toBeInstanceOf(NotFoundError);
    // The owner still sees it.
    expect((await owner.status(message_id)).message_id).toBe(message_id);
  });

  it('covers the other operations: verification, appointments, campaigns, stats, costs, alerts, inbound', async () => {
    const tenant = freshTenantId();
    const admin = client(tenant, ['admin'], 'ts-admin');
    const code = await admin.sendVerificationCode({
      phone_number: '+12025550123',
      purpose: '2fa',
      code: '424242',
    });
    expect(code.success).toBe(true);
    expect(
      await admin.checkVerificationCode({ phone_number: '+12025550123', purpose: '2fa', code: '424242' }),
    ).toEqual({ valid: true });

    await admin.upsertAppointment('ts-1', {
      phone_number: '+12025550123',
      starts_at: new Date(Date.now() + 3 * 3600_000).toISOString(),
      trainer_name: 'John Doe',
      location: 'Training Room A',
    });
    const reminded = await admin.remindAppointment('ts-1');
    expect(reminded).toMatchObject({ success: true, message_id: expect.any(String) });
    expect((await admin.remindAppointment('ts-1')).message_id).toBe(reminded.message_id);
    await expect(admin.remindAppointment('ts-none')).rejects.toBeInstanceOf(NotFoundError);

    const bulk = await admin.sendBulk({
      phone_numbers: ['+12025550123', '+1234567890'],
      message: 'Announcement',
    });
    expect(bulk.accepted).toBe(1);
    const later = await admin.schedule({
      phone_number: '+12025550123',
      message: 'Later',
      scheduled_time: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await admin.cancel(later.message_id);
    expect((await admin.status(later.message_id)).status).toBe('canceled');

    const put = await admin.putRecipients([
      { user_id: 'r1', phone_number: '+12025550101', roles: ['beneficiary'], attributes: { name: 'Ann' } },
    ]);
    expect(put).toEqual({ upserted: 1, rejected: [] });
    expect((await admin.getRecipient('r1')).attributes).toEqual({ name: 'Ann' });
    expect((await admin.listRecipients({ role: 'beneficiary' })).items).toHaveLength(1);
    const filters = { roles: ['beneficiary'], tenant_id: tenant };
    const templated = {
      name: 'TS campaign',
      template_id: 'appointment_reminder',
      recipient_filters: filters,
      variables: { date: 'March 15', time: '2 PM', trainer_name: 'John', location: 'Room A' },
    };
    expect((await admin.previewCampaign(templated)).total_recipients).toBe(1);
    const campaign = await admin.createCampaign(templated);
    expect(campaign.status).toBe('draft');
    expect((await admin.getCampaign(campaign.campaign_id)).name).toBe('TS campaign');
    expect((await admin.listCampaigns()).items.map((c) => c.campaign_id)).toEqual([campaign.campaign_id]);
    expect((await admin.campaignStatus(campaign.campaign_id)).campaign_id).toBe(campaign.campaign_id);
    expect((await admin.cancelCampaign(campaign.campaign_id)).status).toBe('canceled');

    const stats = await admin.stats();
    expect(stats.totals.total).toBeGreaterThanOrEqual(1);
    const links = await admin.linkStats({ group_by: 'template' });
    expect(links).toMatchObject({ group_by: 'template', rows: [], totals: { messages: 0, clicked: 0 } });
    await expect(admin.updateTenantSettings(tenant, { link_tracking: true })).rejects.toMatchObject({
      statusCode: 403,
    });
    const month = new Date().toISOString().slice(0, 7);
    expect((await admin.costReport({ month })).month).toBe(month);
    expect(await admin.costReportCsv({ month })).toMatch(/^section,key,currency,messages,/);
    expect((await admin.alerts()).items).toEqual([]);
    expect((await admin.inbound()).items).toEqual([]);
    expect(await admin.listWebhookEndpoints()).toEqual([]);
    await admin.deleteRecipient('r1');
    await expect(admin.getRecipient('r1')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('runs an A/B test (create, stats, promote) and creates an optimal-time campaign', async () => {
    const admin = client(freshTenantId(), ['admin'], 'ts-ab');
    const created = await admin.createTemplate({
      template_id: 'ts_ab',
      name: 'TS A/B',
      content_en: 'Hi {{name}}, welcome.',
      message_type: 'ts_ab',
      variables: ['name'],
      variants: [
        { key: 'A', weight: 1, content_en: 'Hi {{name}}, welcome.' },
        { key: 'B', weight: 1, content_en: '{{name}}, welcome aboard!' },
      ],
    });
    expect(created.variants?.map((v) => v.key)).toEqual(['A', 'B']);
    const sent = await admin.sendTemplated({
      phone_number: '+12025550132',
      template_id: 'ts_ab',
      variables: { name: 'A' },
    });
    expect(['A', 'B']).toContain(sent.variant);
    const stats = await admin.variantStats('ts_ab');
    expect(stats).toMatchObject({ running: true, clicked: { significant: false }, winner: null });
    const promoted = await admin.promoteVariant('ts_ab', 'B');
    expect(promoted).toMatchObject({ variants: null, content_en: '{{name}}, welcome aboard!' });
    await expect(admin.promoteVariant('ts_ab', 'B')).rejects.toMatchObject({ statusCode: 404 });
    const campaign = await admin.createCampaign({
      name: 'Optimal',
      template_id: 'ts_ab',
      recipient_filters: { roles: ['nobody'] },
      send_at: 'optimal',
      optimal_window_hours: 12,
    });
    expect(campaign).toMatchObject({ send_at: 'optimal', optimal_window_hours: 12 });
  });

  it("verifies the service's webhooks: a real callback, and bodies signed by the service's code", async () => {
    const receiver = new WebhookReceiver();
    const url = await receiver.start();
    try {
      const admin = client(freshTenantId(), ['admin'], 'ts-admin');
      const endpoint = await admin.createWebhookEndpoint({ url: `${url}/ts`, events: ['message.sent'] });
      const { message_id } = await admin.send({ phone_number: '+12025550123', message: 'callback please' });
      const deadline = Date.now() + 15_000;
      while (!receiver.on('/ts').some((r) => r.json.data.message_id === message_id) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const got = receiver.on('/ts').find((r) => r.json.data.message_id === message_id);
      const header = got?.headers['x-sms-signature'] as string;
      expect(verifyWebhookSignature(endpoint.secret, header, got?.raw ?? '')).toBe(true);
      expect(verifyWebhookSignature(endpoint.secret, header, Buffer.from(got?.raw ?? ''))).toBe(true);
      expect(verifyWebhookSignature('whsec_wrong', header, got?.raw ?? '')).toBe(false);
      expect(verifyWebhookSignature(endpoint.secret, header, `${got?.raw} `)).toBe(false);
      const t0 = Number(/^t=(\d+)/.exec(header)?.[1]);
      expect(verifyWebhookSignature(endpoint.secret, header, got?.raw ?? '', 300, t0 + 301)).toBe(false);

      const deliveries = await admin.webhookDeliveries({ message_id });
      expect(deliveries.items).toHaveLength(1);
      expect((await admin.webhookDelivery(deliveries.items[0].id)).event_type).toBe('message.sent');
      const rotated = await admin.rotateWebhookSecret(endpoint.id);
      expect(rotated.secret).not.toBe(endpoint.secret);
      await admin.deleteWebhookEndpoint(endpoint.id);
      await expect(admin.deleteWebhookEndpoint(endpoint.id)).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await receiver.stop();
    }

    const body = JSON.stringify({ id: '7', kind: 'cost_threshold', message: 'Ayşe: 80 % of the budget' });
    expect(
      verifyWebhookSignature('s3cret', signWebhook('s3cret', body, 1_767_225_600), body, 300, 1_767_225_600),
    ).toBe(true);
  });

  it('retries a 503 with the same Idempotency-Key, then gives up with a typed error', async () => {
    const keys: string[] = [];
    const unavailable = () =>
      new Response(
        JSON.stringify({ statusCode: 503, error: 'Service Unavailable', message: 'redis is unavailable' }),
        {
          status: 503,
          headers: { 'Content-Type': 'application/json', 'Retry-After': '0', 'X-Request-Id': 'r-1' },
        },
      );
    const flaky = createSmsClient({
      baseUrl: 'http://sms.test',
      token: 't',
      fetch: async (req) => {
        keys.push(req.headers.get('idempotency-key') ?? '');
        if (keys.length === 1) return unavailable();
        return new Response(JSON.stringify({ success: true, message_id: 'm-1', status: 'queued' }), {
          status: 202,
          headers: { 'Content-Type': 'application/json' },
        });
      },
    });
    expect((await flaky.send({ phone_number: '+12025550123', message: 'hi' })).message_id).toBe('m-1');
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);

    const down = createSmsClient({
      baseUrl: 'http://sms.test',
      token: 't',
      retries: 1,
      fetch: async () => unavailable(),
    });
    const err = await down.send({ phone_number: '+12025550123', message: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(err).toMatchObject({ statusCode: 503, retryAfter: 0, requestId: 'r-1' });

    const refused = createSmsClient({ baseUrl: 'http://127.0.0.1:1', token: 't', retries: 0 });
    await expect(refused.status('x')).rejects.toBeInstanceOf(SmsConnectionError);
  });
});
