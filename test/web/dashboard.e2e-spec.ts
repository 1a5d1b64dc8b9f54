/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (no downloaded
 * browser) against the real app listening on a free port, with the built web assets, on the real
 * PostgreSQL and Redis. Writes a screenshot of each page to docs/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { signToken } from '../../src/auth/tokens';
import { CallbacksService, HostResolver } from '../../src/callbacks';
import { CampaignsService } from '../../src/campaigns';
import { DASHBOARD_CSP } from '../../src/dashboard';
import { InboundService } from '../../src/inbound';
import { ChannelFallbacks } from '../../src/messaging';
import { randomBytes } from 'node:crypto';
import { FAKE_TWILIO_SID_2, FAKE_TWILIO_TOKEN_2, FakeTwilio } from '../fakes/fake-twilio';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { FakeDns } from '../support/fake-dns';
import { waitForStatus } from '../support/messages';
import { allowCountries, forgetProviderAccounts, NO_CONSENT_NEEDED } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';
import { DataSource } from 'typeorm';

/** This file's provider accounts are forgotten when it ends. */
const started = new Date();

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ROOT = resolve(__dirname, '../..');
const SHOTS = join(ROOT, 'docs/screenshots');
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
/** Channels (docs/sending.md, Channels): the tenant's WhatsApp sender, an approved template, a medium. */
const WHATSAPP_FROM = '+14155238886';
const CONTENT_SID = 'HX' + 'ab'.repeat(16);
const FLYER = 'https://cdn.example.com/flyer.jpg';

const haveChromium = existsSync(CHROMIUM);
const SKIP_REASON = `SKIPPED: ${CHROMIUM} is absent (apt-get install -y chromium)`;
if (!haveChromium) console.error(`dashboard.e2e-spec ${SKIP_REASON}`); // named in the run's output

function dashboardSuite(): void {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let receiver: WebhookReceiver;
  /** Only tenants' own accounts use it (the operator has no Twilio here: the sandbox sends). */
  const twilioFake = new FakeTwilio();
  const consoleErrors: string[] = [];
  /** The channels' messages (beforeAll): a WhatsApp one, an MMS, and a WhatsApp one that fell back to SMS. */
  const WHATSAPP_TO = '+12025550186';
  let whatsappId: string;
  let mmsId: string;
  let fellBackId: string;
  const tenant = freshTenantId();
  const admin: TokenOptions = { tenant, user: 'ops-1', roles: ['admin'] };
  const phone = '+12025550177';
  const trainingReminder = {
    template_id: 'training_reminder',
    name: 'Training Reminder',
    content_en: 'Hello {{name}}, your training is on {{date}}.',
    content_tr: 'Merhaba {{name}}, eğitim {{date}} tarihinde.',
    message_type: 'training_reminder',
    variables: ['name', 'date'],
  };

  async function shot(p: Page, name: string): Promise<void> {
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  async function newPage(ctx: BrowserContext, errors: string[] | null): Promise<Page> {
    ctx.setDefaultTimeout(10_000); // fail with Playwright's message, inside jest's 30 s
    const p = await ctx.newPage();
    if (errors) {
      p.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      p.on('pageerror', (e) => errors.push(e.message));
    }
    return p;
  }

  async function signInByPasting(p: Page, token: string): Promise<void> {
    await p.goto(`${base}/dashboard`);
    await p.locator('#token').fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByTestId('nav-overview').waitFor();
  }

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/dashboard/index.html')))
      execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
    mkdirSync(SHOTS, { recursive: true });
    receiver = new WebhookReceiver();
    await receiver.start();
    // MMS media hosts are resolved before a send is taken: the medium's host has a public address.
    const dns = new FakeDns().set('cdn.example.com', ['93.184.216.34']);
    t = await createTestApp({
      env: {
        SANDBOX_DELIVERY_DELAY_MS: '10',
        WEBHOOK_ALLOW_INSECURE: 'true', // the receiver is on loopback
        WEBHOOK_DISPATCH_INTERVAL_MS: '50',
        WEBHOOK_ENDPOINT_PAUSE_AFTER: '2',
        TWILIO_API_BASE_URL: await twilioFake.start(),
        PROVIDER_CREDENTIALS_KEY: randomBytes(32).toString('base64'),
      },
      override: (b) => b.overrideProvider(HostResolver).useValue(dns),
    });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;

    // A tenant with a template, a directory, one message (delivered) and an XSS attempt in each text.
    // Tracked links on: the overview's link stats. A WhatsApp sender of its own: the channels.
    await allowCountries(t, tenant, ['US', 'TR'], {
      ...NO_CONSENT_NEEDED,
      link_tracking: true,
      whatsapp_sender: WHATSAPP_FROM,
    });
    const auth = t.auth(admin);
    await t.http().post('/api/sms/templates').set(auth).send(trainingReminder).expect(201);
    await t
      .http()
      .post('/api/sms/templates')
      .set(auth)
      .send({
        template_id: 'xss_probe',
        name: XSS,
        content_en: `${XSS} {{name}}`,
        message_type: 'xss_probe',
        variables: ['name'],
      })
      .expect(201);
    const recipients = [
      { user_id: 'b1', phone_number: '+12025550101', roles: ['beneficiary'], attributes: { name: 'Ann' } },
      { user_id: 'b2', phone_number: '+12025550102', roles: ['beneficiary'], attributes: { name: 'Bob' } },
      {
        user_id: 'b3',
        phone_number: '+905321110003',
        roles: ['beneficiary'],
        language: 'tr',
        attributes: { name: 'Ayşe' },
      },
      { user_id: 't1', phone_number: '+12025550109', roles: ['trainer'], attributes: { name: 'Tess' } },
    ];
    await t.http().put('/api/sms/recipients').set(auth).send({ recipients }).expect(200);
    const sent = await t
      .http()
      .post('/api/sms/send')
      .set(auth)
      .send({ phone_number: phone, message: `Your code ${XSS}` })
      .expect(202);
    await eventually(async () => {
      const s = await t.http().get(`/api/sms/messages/${sent.body.message_id}/status`).set(auth);
      return s.body.status === 'delivered' ? true : undefined;
    }, 15_000);
    // A verification code, delivered and checked: the overview's code conversion.
    const code = { phone_number: '+12025550178', purpose: '2fa', code: '424242' };
    const coded = await t.http().post('/api/sms/verification/send').set(auth).send(code).expect(202);
    await eventually(async () => {
      const s = await t.http().get(`/api/sms/messages/${coded.body.message_id}/status`).set(auth);
      return s.body.status === 'delivered' ? true : undefined;
    }, 15_000);
    await t.http().post('/api/sms/verification/check').set(auth).send(code).expect(200, { valid: true });
    // Two messages with a tracked link, one of them clicked (twice): 1 of 2 clicked, 2 hits.
    for (const to of ['+12025550181', '+12025550182']) {
      const linked = await t
        .http()
        .post('/api/sms/send')
        .set(auth)
        .send({ phone_number: to, message: 'Your results: https://example.com/results?id=7' })
        .expect(202);
      if (to.endsWith('81')) {
        const [{ code: short }] = await t
          .get(DataSource)
          .query('SELECT code FROM sms_links WHERE message_id = $1', [linked.body.message_id]);
        await t.http().get(`/l/${short}`).expect(302);
        await t.http().get(`/l/${short}`).expect(302);
      }
    }
    // Channels: a WhatsApp message (its approved template: the recipient has not written), an
    // MMS, and a WhatsApp message whose receipt says undelivered, so it goes out again as SMS.
    const channelSend = async (body: Record<string, unknown>, status: string) => {
      const res = await t
        .http()
        .post('/api/sms/send')
        .set(auth)
        .send({ message: 'Your class starts at 9', ...body })
        .expect(202);
      await waitForStatus(t, admin, res.body.message_id, status, 15_000);
      return res.body.message_id as string;
    };
    const whatsapp = { channel: 'whatsapp', content_sid: CONTENT_SID, content_variables: { '1': 'Ann' } };
    whatsappId = await channelSend({ phone_number: WHATSAPP_TO, ...whatsapp }, 'delivered');
    mmsId = await channelSend(
      { phone_number: '+12025550187', channel: 'mms', media_urls: [FLYER] },
      'delivered',
    );
    const undelivered = '+15005550012'; // the sandbox's undelivered test number
    fellBackId = await channelSend(
      { phone_number: undelivered, ...whatsapp, fallback_channel: 'sms' },
      'undelivered',
    );
    await eventually(async () => {
      await t.get(ChannelFallbacks).pass(); // the fallback job's pass, as its schedule would run it
      const s = await t.http().get(`/api/sms/messages/${fellBackId}/status`).set(auth);
      return s.body.fallback_message_id ? true : undefined;
    }, 15_000);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 } });
    page = await newPage(context, consoleErrors);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.stop();
    await twilioFake.stop();
    await forgetProviderAccounts(started);
  });

  it('sends a strict CSP, long-caches hashed assets and never caches the page', async () => {
    const index = await t.http().get('/dashboard').expect(200);
    expect(index.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(index.headers['cache-control']).toBe('no-cache');
    const scripts = index.text.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toMatch(/\bsrc="\/dashboard\/assets\//); // no inline script
    expect(index.text).not.toMatch(/<style\b|\sstyle=/); // no inline style
    const asset = /\/dashboard\/assets\/([^"]+\.js)/.exec(index.text)?.[1];
    expect(asset).toBeDefined();
    const js = await t.http().get(`/dashboard/assets/${asset}`).expect(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-type']).toMatch(/javascript/);
    await t.http().get('/dashboard/assets/..%2F..%2Fpackage.json').expect(404);
    await t.http().get('/dashboard/assets/nope-12345678.js').expect(404);
  });

  it('signs in with a pasted token; the overview figures are the API’s', async () => {
    await signInByPasting(page, t.token(admin));
    expect(await page.evaluate('sessionStorage.length')).toBe(1);
    const end = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
    const stats = await t
      .http()
      .get('/api/sms/stats')
      .query({ group_by: 'day', start_date: start, end_date: end })
      .set(t.auth(admin))
      .expect(200);
    const fmt = new Intl.NumberFormat('en-US');
    const pct = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });
    await expectText(page, 'fig-total', fmt.format(stats.body.totals.total));
    expect(stats.body.totals.total).toBeGreaterThanOrEqual(1);
    await expectText(page, 'fig-delivered', fmt.format(stats.body.totals.delivered));
    await expectText(page, 'fig-rate', pct.format(stats.body.totals.delivery_rate));
    const conversion = stats.body.conversion.totals;
    expect(conversion).toMatchObject({ sent: 1, converted: 1 });
    const seconds = new Intl.NumberFormat('en-US', {
      style: 'unit',
      unit: 'second',
      maximumFractionDigits: 1,
    });
    await expectText(page, 'fig-conversion-rate', pct.format(conversion.conversion_rate));
    await expectText(page, 'fig-convert-p50', seconds.format(conversion.time_to_convert_ms.p50 / 1000));
    await expectText(page, 'fig-convert-p95', seconds.format(conversion.time_to_convert_ms.p95 / 1000));
    await page.getByTestId('conversion-countries').getByText('US').waitFor();
    // Tracked links: the figures are GET /api/sms/links/stats's.
    const links = await t
      .http()
      .get('/api/sms/links/stats')
      .query({ start_date: start, end_date: end })
      .set(t.auth(admin))
      .expect(200);
    expect(links.body.totals).toMatchObject({ messages: 2, clicked: 1, click_rate: 0.5, hits: 2 });
    await expectText(page, 'fig-link-messages', '2');
    await expectText(page, 'fig-link-clicked', '1');
    await expectText(page, 'fig-link-rate', pct.format(0.5));
    await expectText(page, 'fig-link-hits', '2');
    await page.getByTestId('link-stats').getByText('no campaign').waitFor();
    await page.locator('[data-testid=chart] canvas').waitFor();
    await page.getByTestId('providers').getByText('sandbox').waitFor();
    await page.getByTestId('routing').waitFor();
    await shot(page, 'overview');
  });

  it('splits the overview by channel, with the WhatsApp messages sent again as SMS', async () => {
    await page.getByTestId('nav-overview').click();
    const end = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
    const channels = await t
      .http()
      .get('/api/sms/stats/channels')
      .query({ start_date: start, end_date: end })
      .set(t.auth(admin))
      .expect(200);
    type Row = { channel: string; total: number; delivered: number; estimated_cost: string | null };
    const rows = channels.body.by_channel as Row[];
    expect(rows.map((r) => r.channel).sort()).toEqual(['mms', 'sms', 'whatsapp']);
    expect(channels.body.fallbacks).toBe(1);
    const fmt = new Intl.NumberFormat('en-US');
    for (const r of rows) {
      const cells = page.getByTestId(`channel-${r.channel}`).locator('td');
      await eventually(async () =>
        (await cells.nth(1).textContent()) === fmt.format(r.total) ? true : undefined,
      );
      expect(await cells.nth(2).textContent()).toBe(fmt.format(r.delivered));
      expect(await cells.nth(4).textContent()).toContain(r.estimated_cost ?? '—');
    }
    await expectText(page, 'channel-fallbacks', 'WhatsApp messages sent again as SMS: 1');
  });

  it('signs in from #token= and removes the token from the address', async () => {
    const p = await newPage(await browser.newContext({ locale: 'en-US' }), consoleErrors);
    await p.goto(`${base}/dashboard#token=${t.token(admin)}`);
    await p.getByTestId('nav-overview').waitFor();
    expect(p.url()).not.toContain('token=');
    await p.context().close();
  });

  it('an expired token goes back to sign-in with a message', async () => {
    const expired = signToken(
      { sub: 'ops-1', tenant_id: tenant, roles: ['admin'] },
      t.config.get('JWT_SECRET'),
      { now: Date.now() - 2 * 3600_000, expiresInSeconds: 600 },
    );
    // A context of its own: the refused call is a console error by design.
    const ctx = await browser.newContext({ locale: 'en-US' });
    const p = await ctx.newPage();
    await p.goto(`${base}/dashboard#token=${expired}`);
    await p.getByTestId('signin-notice').waitFor();
    expect(await p.getByTestId('signin-notice').textContent()).toMatch(/session ended/i);
    expect(await p.evaluate('sessionStorage.length')).toBe(0);
    await shot(p, 'sign-in');
    await ctx.close();
  });

  it('finds a message by phone and opens its timeline', async () => {
    await page.getByTestId('nav-messages').click();
    await page.getByTestId('filter-phone').fill(phone);
    await page.getByTestId('search').click();
    const rows = page.getByTestId('message-row');
    await eventually(async () => ((await rows.count()) === 1 ? true : undefined));
    await expect(rows.first().textContent()).resolves.toContain(phone);
    // The XSS attempt in the body is text.
    await expect(rows.first().textContent()).resolves.toContain('<img src=x');
    await shot(page, 'messages');
    await rows.first().getByRole('link').click();
    const timeline = page.getByTestId('timeline');
    await timeline.waitFor();
    const steps = await timeline.locator('li').allTextContents();
    expect(steps.join(' ')).toMatch(/queued[\s\S]*sent[\s\S]*delivered/);
    // Why it went where it went (the only provider here: the configured order).
    expect(steps.join(' ')).toContain('routed to sandbox: default order');
    await shot(page, 'message-detail');
  });

  it('says why a message failed, in the list and on its page, in the chosen language', async () => {
    const failing = '+15005550001'; // the sandbox refuses it as an invalid number (21211)
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({ phone_number: failing, message: 'Your class moved to 7 PM' })
      .expect(202);
    await eventually(async () => {
      const s = await t.http().get(`/api/sms/messages/${res.body.message_id}/status`).set(t.auth(admin));
      return s.body.status === 'failed' ? true : undefined;
    }, 15_000);
    const sentence =
      'Not a valid phone number (sandbox 21211): check the number and correct it; retrying will not help.';
    await page.getByTestId('nav-messages').click();
    await page.getByTestId('filter-phone').fill(failing);
    await page.getByTestId('search').click();
    const reason = page.getByTestId('message-row').first().getByTestId('failure-reason');
    await reason.waitFor();
    expect(await reason.textContent()).toBe(sentence);
    await page.getByTestId('message-row').first().getByRole('link').click();
    const detail = page.getByTestId('detail-reason');
    await detail.waitFor();
    expect(await detail.textContent()).toBe(`${sentence} invalid_number`);
    await page.getByTestId('lang').click();
    await expectText(
      page,
      'detail-reason',
      'Geçerli bir telefon numarası değil (sandbox 21211): numarayı kontrol edip düzeltin; yeniden denemek işe yaramaz. invalid_number',
    );
    await page.getByTestId('lang').click();
    await expectText(page, 'nav-overview', 'Overview');
  });

  it('marks a test-mode message and shows who it was sent from', async () => {
    const number = '+12025550177';
    await t
      .http()
      .put(`/api/sms/tenants/${tenant}/senders`)
      .set(t.auth(admin))
      .send({ senders: { US: { number: '+12025550100' } } })
      .expect(200);
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ ...admin, testMode: true }))
      .send({ phone_number: number, message: 'Rehearsal of the fire drill notice' })
      .expect(202);
    expect(res.body).toMatchObject({ test_mode: true, estimated_cost: 0 });
    await page.getByTestId('nav-messages').click();
    await page.getByTestId('filter-phone').fill(number);
    await page.getByTestId('search').click();
    const row = page.getByTestId('message-row').first();
    await row.getByTestId('test-mode').waitFor();
    await row.getByRole('link').click();
    await expectText(page, 'detail-sender', '+12025550100');
    expect(await page.getByTestId('message-detail').getByTestId('test-mode').count()).toBe(1);
    await t
      .http()
      .put(`/api/sms/tenants/${tenant}/senders`)
      .set(t.auth(admin))
      .send({ senders: null })
      .expect(200);
  });

  it('filters messages by channel; shows the WhatsApp form, the MMS media and the SMS fallback both ways', async () => {
    const auth = t.auth(admin);
    await page.getByTestId('nav-messages').click();
    await page.getByTestId('filter-phone').fill('');
    await page.getByTestId('filter-channel').selectOption('whatsapp');
    await page.getByTestId('search').click();
    // The rows are GET /api/sms/history?channel=whatsapp's.
    const history = await t
      .http()
      .get('/api/sms/history')
      .query({ channel: 'whatsapp', limit: 25 })
      .set(auth)
      .expect(200);
    const ids = (history.body.items as { message_id: string }[]).map((m) => m.message_id);
    expect(ids).toEqual(expect.arrayContaining([whatsappId, fellBackId]));
    expect(ids).not.toContain(mmsId);
    const rows = page.getByTestId('message-row');
    await eventually(async () => ((await rows.count()) === ids.length ? true : undefined));
    for (const text of await page.getByTestId('message-channel').allTextContents())
      expect(text).toMatch(/^whatsapp · template/);
    await shot(page, 'messages-channels');
    // The one that fell back: the link goes to its SMS, which links back.
    const fellBack = (await t.http().get(`/api/sms/messages/${fellBackId}/status`).set(auth)).body;
    expect(fellBack).toMatchObject({ fallback_channel: 'sms', fallback_reason: 'undelivered' });
    const row = rows.filter({ hasText: '+15005550012' });
    await expectText(page, 'fallback-link', 'sent again as SMS (undelivered)');
    await row.getByTestId('fallback-link').click();
    await expectText(page, 'detail-id', fellBack.fallback_message_id);
    expect(await page.getByTestId('detail-channel').textContent()).toMatch(/^sms/);
    await page.getByTestId('fallback-of').click();
    await expectText(page, 'detail-id', fellBackId);
    await expectText(page, 'detail-content-sid', CONTENT_SID);
    expect(await page.getByTestId('detail-channel').textContent()).toMatch(/^whatsapp · template/);
    // MMS: the filter, then its media on its page.
    await page.getByTestId('nav-messages').click();
    await page.getByTestId('filter-channel').selectOption('mms');
    await page.getByTestId('search').click();
    await eventually(async () =>
      (await rows.count()) === 1 && (await rows.first().textContent())?.includes('+12025550187')
        ? true
        : undefined,
    );
    await rows.first().getByRole('link').click();
    await expectText(page, 'detail-id', mmsId);
    await expectText(page, 'detail-media', FLYER);
  });

  it('creates a campaign after its preview, executes it and watches it complete', async () => {
    await page.getByTestId('nav-campaigns').click();
    const form = page.getByTestId('new-campaign');
    await form.locator('input[name=name]').fill(`Spring ${XSS}`);
    await form.locator('select[name=template]').selectOption('training_reminder');
    await form.locator('input[name=roles]').fill('beneficiary');
    // A language the contract does not know is refused in the page (the request types admit none).
    await form.locator('input[name=languages]').fill('en, de');
    await form.getByRole('alert').filter({ hasText: 'recipient_filters.languages: de' }).waitFor();
    expect(await page.getByTestId('create-campaign').isDisabled()).toBe(true);
    await form.locator('input[name=languages]').fill('');
    await form.locator('textarea[name=variables]').fill('date=March 15');
    const preview = page.getByTestId('campaign-preview');
    await preview.waitFor();
    await eventually(async () =>
      (await page.getByTestId('preview-will-send').textContent()) === '3' ? true : undefined,
    );
    expect(await preview.textContent()).toContain('Merhaba Ayşe');
    await shot(page, 'campaign-preview');
    await page.getByTestId('create-campaign').click();
    const row = page.getByTestId('campaign-row').filter({ hasText: 'Spring' });
    await row.waitFor();
    // The XSS attempt in its name is text.
    expect(await row.locator('.campaign-name').textContent()).toBe(`Spring ${XSS}`);
    await row.getByTestId('execute').click();
    // Completion is the campaign job's (every minute in a worker): run it as that schedule would,
    // while the page polls the status.
    const completed = page
      .locator('[data-testid=campaign-row][data-status=completed]')
      .filter({ hasText: 'Spring' });
    await eventually(
      async () => {
        await t.get(CampaignsService).tick();
        return (await completed.count()) > 0 ? true : undefined;
      },
      30_000,
      'the campaign to show completed',
    );
    expect(await row.textContent()).toContain('100%');
    await shot(page, 'campaigns');
  });

  it("creates a WhatsApp campaign sent at each recipient's best hour, and an MMS campaign that sends its media", async () => {
    const auth = t.auth(admin);
    const stored = async (name: string) => {
      const list = await t.http().get('/api/sms/campaigns').set(auth).expect(200);
      const c = (list.body.items as { name: string; campaign_id: string }[]).find((x) => x.name === name);
      if (!c) return undefined;
      const [{ channel_options }] = await t
        .get(DataSource)
        .query('SELECT channel_options FROM sms_campaigns WHERE id = $1', [c.campaign_id]);
      return { ...c, channel_options };
    };
    await page.getByTestId('nav-campaigns').click();
    const form = page.getByTestId('new-campaign');
    // The name last: the preview waits for it, so it never sees a half-filled channel.
    await form.locator('input[name=name]').fill('');
    await form.locator('select[name=template]').selectOption('training_reminder');
    await form.locator('input[name=roles]').fill('beneficiary');
    await form.locator('textarea[name=variables]').fill('date=March 15');
    await form.locator('select[name=channel]').selectOption('whatsapp');
    await form.locator('input[name=content_sid]').fill(CONTENT_SID);
    await form.locator('textarea[name=content_variables]').fill('1=Ann');
    await form.locator('input[name=fallback_sms]').check();
    await form.locator('input[name=send_at_optimal]').check();
    await form.locator('input[name=optimal_window_hours]').fill('12');
    await form.locator('input[name=name]').fill('Open day on WhatsApp');
    await eventually(async () => (await page.getByTestId('create-campaign').isEnabled()) || undefined);
    await shot(page, 'campaign-whatsapp');
    await page.getByTestId('create-campaign').click();
    const whatsappRow = page.getByTestId('campaign-row').filter({ hasText: 'Open day on WhatsApp' });
    await whatsappRow.waitFor();
    expect(await whatsappRow.getByTestId('campaign-channel').textContent()).toBe('whatsapp');
    expect(await whatsappRow.getByTestId('campaign-optimal').textContent()).toBe('best hour within 12 h');
    const wa = await eventually(() => stored('Open day on WhatsApp'));
    expect(wa).toMatchObject({
      channel: 'whatsapp',
      send_at: 'optimal',
      optimal_window_hours: 12,
      channel_options: {
        channel: 'whatsapp',
        contentSid: CONTENT_SID,
        contentVariables: { '1': 'Ann' },
        fallbackChannel: 'sms',
      },
    });

    // MMS to the trainer (a US number), sent now: its message carries the medium.
    await form.locator('input[name=name]').fill('');
    await form.locator('input[name=send_at_optimal]').uncheck();
    await form.locator('input[name=roles]').fill('trainer');
    await form.locator('select[name=channel]').selectOption('mms');
    expect(await form.locator('input[name=content_sid]').count()).toBe(0);
    await form.locator('textarea[name=media_urls]').fill(FLYER);
    await form.locator('input[name=name]').fill('Flyer by MMS');
    await eventually(async () =>
      (await page.getByTestId('preview-will-send').textContent()) === '1' &&
      (await page.getByTestId('create-campaign').isEnabled())
        ? true
        : undefined,
    );
    await page.getByTestId('create-campaign').click();
    const mmsRow = page.getByTestId('campaign-row').filter({ hasText: 'Flyer by MMS' });
    await mmsRow.waitFor();
    expect(await mmsRow.getByTestId('campaign-channel').textContent()).toBe('mms');
    expect(await mmsRow.getByTestId('campaign-optimal').count()).toBe(0);
    const mms = await eventually(() => stored('Flyer by MMS'));
    expect(mms).toMatchObject({
      channel: 'mms',
      send_at: 'now',
      optimal_window_hours: null,
      channel_options: { channel: 'mms', mediaUrls: [FLYER] },
    });
    await mmsRow.getByTestId('execute').click();
    const sent = await eventually(
      async () => {
        await t.get(CampaignsService).tick();
        const h = await t
          .http()
          .get('/api/sms/history')
          .query({ campaign_id: mms!.campaign_id })
          .set(auth)
          .expect(200);
        return h.body.items.length === 1 ? h.body.items[0] : undefined;
      },
      30_000,
      "the MMS campaign's message",
    );
    expect(sent).toMatchObject({ channel: 'mms', media_urls: [FLYER], phone_number: '+12025550109' });
  });

  it('edits a Turkish template and warns about the characters that force UCS-2', async () => {
    await page.getByTestId('nav-templates').click();
    await page.getByTestId('template-training_reminder').click();
    const tr = page.locator('textarea[name=content_tr]');
    await tr.fill('Merhaba {{name}}, eğitiminiz {{date}} tarihinde. Görüşmek üzere!');
    await expectText(page, 'encoding-en', 'GSM-7');
    await page.locator('textarea[name=sample]').fill('name=Ayşe\ndate=15 Mart');
    await expectText(page, 'encoding-tr', 'UCS-2');
    const warning = await page.getByTestId('ucs2-tr').textContent();
    for (const c of ['ğ', 'ş']) expect(warning).toContain(c);
    expect(warning).not.toContain('ü'); // ü is in GSM-7
    expect(await page.getByTestId('rendered-tr').textContent()).toContain('Merhaba Ayşe');
    await page.getByTestId('save-template').click();
    await page.getByTestId('saved').waitFor();
    const stored = await t.http().get('/api/sms/templates/training_reminder').set(t.auth(admin)).expect(200);
    expect(stored.body.content_tr).toBe('Merhaba {{name}}, eğitiminiz {{date}} tarihinde. Görüşmek üzere!');
    await shot(page, 'templates');
  });

  it('creates a template with English and Turkish side by side', async () => {
    await page.getByTestId('new-template').click();
    const editor = page.getByTestId('template-editor');
    await editor.locator('input[name=template_id]').fill('class_moved');
    await editor.locator('input[name=name]').fill('Class moved');
    await editor.locator('input[name=message_type]').fill('class_moved');
    await editor.locator('textarea[name=content_en]').fill('Hi {{name}}, class moved to {{room}}.');
    await editor
      .locator('textarea[name=content_tr]')
      .fill('Merhaba {{name}}, ders {{room}} salonuna taşındı.');
    await expectText(page, 'encoding-en', 'GSM-7');
    await expectText(page, 'encoding-tr', 'UCS-2');
    await page.getByTestId('save-template').click();
    await page.getByTestId('template-class_moved').waitFor();
    const stored = await t.http().get('/api/sms/templates/class_moved').set(t.auth(admin)).expect(200);
    expect(stored.body).toMatchObject({
      content_tr: 'Merhaba {{name}}, ders {{room}} salonuna taşındı.',
      variables: ['name', 'room'],
    });
  });

  it("sets a template's channel: WhatsApp with its content SID, then MMS", async () => {
    const auth = t.auth(admin);
    const template = async () =>
      (await t.http().get('/api/sms/templates/class_moved').set(auth).expect(200)).body;
    expect(await template()).toMatchObject({ channel: 'sms', content_sid: null });
    await page.getByTestId('template-class_moved').click();
    const editor = page.getByTestId('template-editor');
    expect(await editor.locator('input[name=content_sid]').count()).toBe(0);
    await editor.locator('select[name=channel]').selectOption('whatsapp');
    await editor.locator('input[name=content_sid]').fill(CONTENT_SID);
    await page.getByTestId('save-template').click();
    await page.getByTestId('saved').waitFor();
    expect(await template()).toMatchObject({ channel: 'whatsapp', content_sid: CONTENT_SID });
    await expectText(page, 'template-channel-class_moved', 'whatsapp');
    await editor.locator('select[name=channel]').selectOption('mms');
    expect(await editor.locator('input[name=content_sid]').count()).toBe(0);
    await page.getByTestId('save-template').click();
    await page.getByTestId('saved').waitFor();
    expect((await template()).channel).toBe('mms');
    await expectText(page, 'template-channel-class_moved', 'mms');
  });

  it('counts a template as smart encoding sends it, and as written when it is exact', async () => {
    await page.getByTestId('new-template').click();
    const editor = page.getByTestId('template-editor');
    await editor.locator('input[name=message_type]').fill('notice');
    // Curly quotes and an en dash: 2 UCS-2 segments as written; the tenant's default (lookalikes) sends 1 GSM-7.
    await editor
      .locator('textarea[name=content_en]')
      .fill(
        'Reminder: your assessment “Safety basics” is due on 15 March – please submit it before 17:00. Thanks!',
      );
    await expectText(page, 'encoding-en', 'GSM-7');
    await expectText(page, 'smart-mode', 'lookalikes');
    const note = await page.getByTestId('smart-en').textContent();
    for (const part of ['lookalikes', 'UCS-2 · 2', 'GSM-7 · 1', '3 characters replaced'])
      expect(note).toContain(part);
    expect(await page.getByTestId('rendered-en').textContent()).toContain(
      '"Safety basics" is due on 15 March -',
    );
    await shot(page, 'templates-smart-encoding');
    await editor.locator('input[name=exact]').check();
    await expectText(page, 'encoding-en', 'UCS-2');
    await expectText(page, 'smart-mode', 'off');
    expect(await page.getByTestId('smart-en').count()).toBe(0);
    expect(await page.getByTestId('ucs2-en').textContent()).toContain('“');
  });

  it("compares a template's A/B variants and ends the test by promoting one", async () => {
    const auth = t.auth(admin);
    const ab = {
      template_id: 'open_day',
      name: 'Open day',
      content_en: 'Hi {{name}}, open day on Saturday.',
      message_type: 'open_day',
      variables: ['name'],
      variants: [
        { key: 'A', weight: 50, content_en: 'Hi {{name}}, open day on Saturday.' },
        { key: 'B', weight: 50, content_en: '{{name}}, join our open day this Saturday!' },
      ],
    };
    await t.http().post('/api/sms/templates').set(auth).send(ab).expect(201);
    for (let i = 0; i < 4; i++)
      await t
        .http()
        .post('/api/sms/send-templated')
        .set(auth)
        .send({ phone_number: `+1202555084${i}`, template_id: 'open_day', variables: { name: 'Ann' } })
        .expect(202);
    // Its own page, signed in by link, so the test runs alone too.
    const p = await newPage(await browser.newContext({ locale: 'en-US' }), consoleErrors);
    await p.goto(`${base}/dashboard#token=${t.token(admin)}`);
    await p.getByTestId('nav-templates').click();
    await p.getByTestId('template-open_day').click();
    await p.getByTestId('variant-table').waitFor();
    const counted = async () =>
      Number((await p.getByTestId('variant-A').locator('td').nth(2).textContent()) ?? 0) +
      Number((await p.getByTestId('variant-B').locator('td').nth(2).textContent()) ?? 0);
    expect(await counted()).toBe(4);
    expect(await p.getByTestId('variant-test').textContent()).toContain('not enough data');
    await shot(p, 'templates-ab-test');
    p.once('dialog', (d) => void d.accept());
    await p.getByTestId('promote-B').click();
    await eventually(
      async () => {
        const r = await t.http().get('/api/sms/templates/open_day').set(auth);
        return r.body.variants === null ? r.body : undefined;
      },
      10_000,
      'the promotion',
    ).then((body) => expect(body.content_en).toBe('{{name}}, join our open day this Saturday!'));
    await p.getByTestId('variant-test').getByText('No A/B test').waitFor();
    await p.context().close();
  });

  it('renders an XSS attempt in a template as text', async () => {
    await page.getByTestId('template-xss_probe').click();
    await page.locator('textarea[name=content_en]').waitFor();
    expect(await page.locator('textarea[name=content_en]').inputValue()).toContain('<script>');
    expect(await page.locator('.template-name').filter({ hasText: '<img' }).textContent()).toBe(XSS);
    expect(await page.locator('img[src=x]').count()).toBe(0);
    expect(await page.locator('#app script').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
  });

  it('shows a WhatsApp reply in the inbound log with its channel', async () => {
    // As Twilio's inbound webhook hands it over (From=whatsapp:…): it goes to the tenant that
    // last sent to the number, our WhatsApp message.
    await t.get(InboundService).receive({
      provider: 'twilio',
      from: WHATSAPP_TO,
      to: WHATSAPP_FROM,
      channel: 'whatsapp',
      body: 'Thanks, see you at 9',
      providerMessageId: `SM${randomBytes(16).toString('hex')}`,
      receivedAt: new Date(),
    });
    const inbound = await t.http().get('/api/sms/inbound').set(t.auth(admin)).expect(200);
    expect(inbound.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ body: 'Thanks, see you at 9', channel: 'whatsapp' }),
      ]),
    );
    await page.getByTestId('nav-inbound').click();
    const row = page.getByTestId('inbound-row').filter({ hasText: 'Thanks, see you at 9' });
    await row.waitFor();
    expect(await row.getByTestId('inbound-channel').textContent()).toBe('whatsapp');
  });

  it('adds and removes an opt-out; shows inbound messages and alerts to an admin; Turkish on the toggle', async () => {
    const optedOut = async () =>
      (await t.http().get('/api/sms/opt-outs').set(t.auth(admin)).expect(200)).body.map(
        (o: { phone_number: string }) => o.phone_number,
      );
    await page.getByTestId('nav-opt-outs').click();
    const card = page.getByTestId('opt-outs');
    await card.getByLabel('Phone').fill('+12025550199');
    await card.getByRole('button', { name: 'Add' }).click();
    const row = card.locator('tr').filter({ hasText: '+12025550199' });
    await row.waitFor();
    expect(await optedOut()).toContain('+12025550199');
    await shot(page, 'opt-outs');
    await row.getByRole('button', { name: 'Remove' }).click(); // the + travels percent-encoded
    await row.waitFor({ state: 'detached' });
    expect(await optedOut()).not.toContain('+12025550199');
    await page.getByTestId('nav-inbound').click();
    await page.getByTestId('inbound').waitFor();
    await shot(page, 'inbound');
    await page.getByTestId('nav-alerts').click();
    await page.getByTestId('alerts').waitFor();
    await shot(page, 'alerts');
    await page.getByTestId('lang').click();
    await expectText(page, 'nav-overview', 'Genel bakış');
    await page.getByTestId('nav-overview').click();
    await page.locator('[data-testid=chart] canvas').waitFor();
    await shot(page, 'overview-tr');
    await page.getByTestId('lang').click();
    await expectText(page, 'nav-overview', 'Overview');
  });

  it('exports a number and downloads the file; erases another only once "erase" is typed', async () => {
    await page.getByTestId('nav-privacy').click();
    const exportsCard = page.getByTestId('privacy-exports');
    await exportsCard.getByLabel('Phone').fill(phone);
    await exportsCard.getByRole('button', { name: 'Export' }).click();
    const download = exportsCard.getByRole('button', { name: 'Download' });
    await download.waitFor();
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    expect(file.suggestedFilename()).toMatch(/^sms-privacy-export-.+\.json$/);
    const exported = JSON.parse(readFileSync((await file.path()) as string, 'utf8')) as {
      phone_number: string;
      messages: unknown[];
    };
    expect(exported.phone_number).toBe(phone);
    expect(exported.messages.length).toBeGreaterThan(0);
    await shot(page, 'privacy');

    const erasures = page.getByTestId('privacy-erasures');
    await erasures.getByLabel('Phone').fill('+12025550196');
    const erase = erasures.getByRole('button', { name: 'Erase' });
    expect(await erase.isDisabled()).toBe(true);
    await erasures.getByLabel('Type "erase" to confirm').fill('erase');
    await erase.click();
    await erasures.locator('tbody tr').filter({ hasText: 'completed' }).waitFor();
    const listed = await t.http().get('/api/sms/privacy/erasures').set(t.auth(admin)).expect(200);
    expect(listed.body).toHaveLength(1);
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(admin))
      .send({ phone_number: '+12025550196', message: 'x' })
      .expect(400);
  });

  it("shows the tenant's retention and consent rule, one number's consent and the İYS CSV", async () => {
    await t
      .http()
      .put('/api/sms/recipients/b3/consent')
      .set(t.auth(admin))
      .send({ sms: { status: 'granted', source: 'HS_WEB', at: '2026-12-01T09:30:00+03:00' } })
      .expect(200);
    await page.getByTestId('nav-privacy').click();
    const card = page.getByTestId('privacy-settings');
    await expectText(
      page,
      'privacy-retention',
      'Message bodies are redacted after 30 days (service default).',
    );
    await expectText(page, 'privacy-consent-rule', 'Promotional texts need no consent (tenant setting).');
    await card.getByLabel('Phone').fill('+90 532 111 00 03');
    await card.getByRole('button', { name: 'Look up' }).click();
    const found = card.getByTestId('consent-found');
    await found.waitFor();
    expect(await found.textContent()).toContain('+905321110003 · SMS consent: granted (HS_WEB');
    expect(await found.locator('tbody tr').count()).toBe(1);
    expect(await found.locator('tbody tr').textContent()).toContain('HS_WEB');
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = readFileSync((await file.path()) as string, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('recipient,type,source,status,consentDate,recipientType,retailerCode');
    expect(csv).toContain('+905321110003,MESAJ,HS_WEB,ONAY,2026-12-01 09:30:00,BIREYSEL,');
  });

  it('shows a paused webhook endpoint and its waiting deliveries; Resume lets them go', async () => {
    const auth = t.auth(admin);
    receiver.answer('/dashboard-hook', 500, 500); // two failures in a row pause it
    const ep = await t
      .http()
      .post('/api/sms/webhook-endpoints')
      .set(auth)
      .send({ url: `${receiver.url}/dashboard-hook`, events: ['message.inbound'] })
      .expect(201);
    const callbacks = t.get(CallbacksService);
    for (let i = 0; i < 3; i++)
      await callbacks.publish({ tenantId: tenant, type: 'message.inbound', key: `dashboard:${i}`, data: {} });
    const endpointNow = async () =>
      (await t.http().get('/api/sms/webhook-endpoints').set(auth).expect(200)).body.find(
        (e: { id: string }) => e.id === ep.body.id,
      ) as { paused: boolean; consecutive_failures: number };
    await eventually(async () => ((await endpointNow()).paused ? true : undefined), 15_000, 'the pause');

    await page.getByTestId('nav-webhooks').click();
    const row = page.locator('[data-testid=endpoint-row]').filter({ hasText: '/dashboard-hook' });
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('paused');
    expect(await row.textContent()).toContain('2 failed attempts in a row; the last: HTTP 500');
    // Its deliveries still pending show that they wait on the pause.
    const waiting = page.getByTestId('delivery-row').filter({ has: page.locator('.badge-paused') });
    await waiting.first().waitFor();
    expect(await waiting.count()).toBeGreaterThanOrEqual(1);
    await shot(page, 'webhooks');

    await row.getByRole('button', { name: 'Resume' }).click();
    await page
      .locator('[data-testid=endpoint-row][data-state=active]')
      .filter({ hasText: '/dashboard-hook' })
      .waitFor();
    expect((await endpointNow()).paused).toBe(false);
    await eventually(async () => (receiver.on('/dashboard-hook').length >= 3 ? true : undefined));
  });

  it("sets a tenant's own Twilio account: a refused check shows why, a good one shows only the last 4", async () => {
    twilioFake.addAccount(FAKE_TWILIO_SID_2, FAKE_TWILIO_TOKEN_2);
    // A tenant of its own: the suite's tenant keeps sending through the sandbox.
    const own = { tenant: freshTenantId(), user: 'ops-2', roles: ['admin'] };
    const ctx = await browser.newContext({ locale: 'en-US' });
    // The refused check is a 400 the browser logs: the only console error this page may have.
    const errors: string[] = [];
    const p = await newPage(ctx, errors);
    await signInByPasting(p, t.token(own));
    await p.getByTestId('nav-provider-accounts').click();
    await p.getByText("None: your messages go through the operator's account.").waitFor();
    const form = p.getByTestId('provider-account-form');
    await form.locator('input[name=account_sid]').fill(FAKE_TWILIO_SID_2);
    await form.locator('input[name=auth_token]').fill('wrong-token-wrong-token');
    await form.locator('input[name=phone_number]').fill('+15005550006');
    await form.getByRole('button', { name: 'Check and save' }).click();
    await form.getByText(/did not pass the check/).waitFor();
    expect(await p.getByTestId('provider-account-row').count()).toBe(0);
    await form.locator('input[name=auth_token]').fill(FAKE_TWILIO_TOKEN_2);
    await form.getByRole('button', { name: 'Check and save' }).click();
    const row = p.getByTestId('provider-account-row');
    await row.waitFor();
    expect(await row.textContent()).toContain('auth_token_last4: …2222');
    expect(await p.content()).not.toContain(FAKE_TWILIO_TOKEN_2.slice(0, 20));
    await shot(p, 'provider-accounts');
    p.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Remove' }).click();
    await p.getByText("None: your messages go through the operator's account.").waitFor();
    expect(errors).toEqual([expect.stringContaining('status of 400')]);
    await ctx.close();
  });

  it('is usable at 360 px wide', async () => {
    const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 360, height: 780 } });
    const p = await newPage(ctx, consoleErrors);
    await p.goto(`${base}/dashboard#token=${t.token(admin)}`);
    await p.locator('[data-testid=chart] canvas').waitFor();
    const overflow = await p.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(p, 'overview-360');
    await ctx.close();
  });

  it('a plain user sees neither the admin pages nor their links', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const p = await newPage(ctx, consoleErrors);
    await signInByPasting(p, t.token({ tenant, user: 'plain-1' }));
    await p.getByTestId('fig-total').waitFor();
    for (const admin of [
      'campaigns',
      'opt-outs',
      'inbound',
      'alerts',
      'webhooks',
      'provider-accounts',
      'tenants',
    ])
      expect(await p.getByTestId(`nav-${admin}`).count()).toBe(0);
    expect(await p.getByTestId('overview-alerts').count()).toBe(0);
    await p.goto(`${base}/dashboard#/campaigns`);
    await p.getByTestId('not-allowed').waitFor();
    expect(await p.getByTestId('campaigns').count()).toBe(0);
    await shot(p, 'plain-user');
    await ctx.close();
  });

  it('a super_admin lists tenants with their usage and switches to one', async () => {
    const operator = { tenant: 1, user: 'operator', roles: ['super_admin'] };
    await t
      .http()
      .patch(`/api/sms/tenants/${tenant}`)
      .set(t.auth(operator))
      .send({ settings: { allowed_countries: ['US', 'TR'], cost_alert_threshold: 25 } })
      .expect(200);
    const ctx = await browser.newContext({ locale: 'en-US' });
    const p = await newPage(ctx, consoleErrors);
    await signInByPasting(p, t.token(operator));
    await p.getByTestId('nav-tenants').click();
    const row = p.getByTestId('tenant-row').filter({ hasText: `tenant ${tenant}` });
    await row.waitFor();
    expect(await row.textContent()).toContain('allowed_countries');
    // Tracked links: the toggle changes the tenant's link_tracking, and nothing else.
    const settings = async () =>
      (await t.http().get(`/api/sms/tenants/${tenant}`).set(t.auth(operator)).expect(200)).body.settings;
    const toggle = row.locator('input[name=link_tracking]');
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await eventually(async () => ((await settings()).link_tracking === false ? true : undefined));
    await eventually(async () => ((await toggle.isEnabled()) && !(await toggle.isChecked())) || undefined);
    await toggle.check();
    await eventually(async () => ((await settings()).link_tracking === true ? true : undefined));
    expect(await settings()).toMatchObject({ allowed_countries: ['US', 'TR'], cost_alert_threshold: 25 });
    await shot(p, 'tenants');
    await row.getByRole('button', { name: 'Act for tenant' }).click();
    await expectText(p, 'acting-for', `Acting for tenant ${tenant} Back to own tenant`);
    const stats = await t
      .http()
      .get('/api/sms/stats')
      .set(t.auth({ tenant, roles: ['admin'] }))
      .expect(200);
    await expectText(p, 'fig-total', new Intl.NumberFormat('en-US').format(stats.body.totals.total));
    // Month-to-date cost against the tenant's threshold (readable by a super_admin).
    await p.getByTestId('cost-threshold').getByText('25').waitFor();
    await ctx.close();
  });

  it('logged no console error on any page', () => {
    expect(consoleErrors).toEqual([]);
  });
}

if (haveChromium) describe('dashboard (Chromium)', dashboardSuite);
else describe.skip(`dashboard (Chromium) ${SKIP_REASON}`, dashboardSuite);

async function expectText(page: Page, testId: string, text: string): Promise<void> {
  await eventually(
    async () => ((await page.getByTestId(testId).textContent())?.trim() === text ? true : undefined),
    10_000,
    `${testId} to read ${text} (reads ${await page.getByTestId(testId).textContent()})`,
  );
}
