import { DataSource } from 'typeorm';
import { allowCountries } from '../support/tenants';
import { createTestApp, freshTenantId, TestApp, TokenOptions } from '../support/test-app';
import { eventually } from '../support/wait';

/** A promotional template with a Turkish text, as A/B tests usually run on. */
const offer = {
  template_id: 'spring_offer',
  name: 'Spring offer',
  content_en: 'Hi {{name}}, spring classes are open.',
  content_tr: 'Merhaba {{name}}, bahar dersleri açıldı.',
  message_type: 'spring_offer',
  variables: ['name'],
};

const variantsAB = [
  {
    key: 'A',
    weight: 50,
    content_en: 'Hi {{name}}, spring classes are open: book today.',
    content_tr: 'Merhaba {{name}}, bahar dersleri açıldı: bugün yer ayırtın.',
  },
  {
    key: 'B',
    weight: 50,
    content_en: '{{name}}, 3 spots left in spring classes!',
    content_tr: '{{name}}, bahar derslerinde 3 yer kaldı!',
  },
];

const usNumber = (i: number) => `+1202555${String(i).padStart(4, '0')}`;

/** `n` messages at `micros` each, as PostgreSQL sums numeric(12,6) (six decimals, e.g. "55.300000"). */
const sumOf = (n: number, micros: number) => {
  const total = n * micros;
  return `${Math.floor(total / 1e6)}.${String(total % 1e6).padStart(6, '0')}`;
};

describe('A/B template variants', () => {
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
    ds = t.get(DataSource);
  });
  afterAll(() => t.close());

  async function tenantWithTest(variants: unknown = variantsAB): Promise<TokenOptions> {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    await allowCountries(t, admin.tenant, ['US']);
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(admin))
      .send({ ...offer, variants })
      .expect(201);
    return admin;
  }

  it('refuses bad variants with a 400 naming the field, and stores nothing', async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    const cases: [unknown, string][] = [
      [[{ ...variantsAB[0] }, { ...variantsAB[1], weight: 0 }], 'variants[1].weight'],
      [[{ ...variantsAB[0] }, { ...variantsAB[1], weight: 2.5 }], 'variants[1].weight'],
      [[{ ...variantsAB[0] }, { ...variantsAB[1], key: 'A' }], 'variants[1].key'],
      [[{ ...variantsAB[0], content_en: 'Hi {{nmae}}!' }, variantsAB[1]], 'variants[0].content_en'],
      [[{ ...variantsAB[0], content_tr: undefined }, variantsAB[1]], 'variants[0].content_tr'],
      [[variantsAB[0]], 'variants'],
    ];
    for (const [variants, field] of cases) {
      const res = await t
        .http()
        .post('/api/sms/templates')
        .set(t.auth(admin))
        .send({ ...offer, variants })
        .expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    await t.http().get(`/api/sms/templates/${offer.template_id}`).set(t.auth(admin)).expect(404);
    // PATCH too: the template stays as it was.
    await t.http().post('/api/sms/templates').set(t.auth(admin)).send(offer).expect(201);
    const bad = await t
      .http()
      .patch(`/api/sms/templates/${offer.template_id}`)
      .set(t.auth(admin))
      .send({ variants: [variantsAB[0], { ...variantsAB[1], content_en: 'no name here' }] })
      .expect(400);
    expect(bad.body.details[0].field).toBe('variants[1].content_en');
    const kept = await t.http().get(`/api/sms/templates/${offer.template_id}`).set(t.auth(admin)).expect(200);
    expect(kept.body).toMatchObject({ variants: null, version: 1 });
  });

  it('sends a templated message with the variant a stable hash picks; a resend gets the same one', async () => {
    const admin = await tenantWithTest();
    const tpl = await t.http().get(`/api/sms/templates/${offer.template_id}`).set(t.auth(admin)).expect(200);
    expect(tpl.body.variants.map((v: { key: string }) => v.key)).toEqual(['A', 'B']);
    expect(tpl.body.variant_test_id).toEqual(expect.any(String));
    const seen = new Map<string, string>();
    for (let i = 0; i < 8; i++) {
      const first = await t
        .http()
        .post('/api/sms/send-templated')
        .set(t.auth(admin))
        .send({ phone_number: usNumber(100 + i), template_id: offer.template_id, variables: { name: 'Ann' } })
        .expect(202);
      // The same number written another way: the same variant.
      const again = await t
        .http()
        .post('/api/sms/send-templated')
        .set(t.auth(admin))
        .send({
          phone_number: `(202) 555-${String(100 + i).padStart(4, '0')}`,
          template_id: offer.template_id,
          variables: { name: 'Ann' },
        })
        .expect(202);
      expect(['A', 'B']).toContain(first.body.variant);
      expect(again.body.variant).toBe(first.body.variant);
      seen.set(first.body.message_id, first.body.variant);
    }
    const rows: { id: string; variant: string; body: string }[] = await ds.query(
      'SELECT id, variant, body FROM sms_messages WHERE id = ANY($1::uuid[])',
      [[...seen.keys()]],
    );
    for (const r of rows) {
      expect(r.variant).toBe(seen.get(r.id));
      const text = variantsAB.find((v) => v.key === r.variant)?.content_en.replace('{{name}}', 'Ann');
      expect(r.body).toBe(text);
    }
    // History shows each message's variant.
    const history = await t.http().get('/api/sms/history?limit=100').set(t.auth(admin)).expect(200);
    const items: { message_id: string; variant: string }[] = history.body.items;
    expect(items.filter((x) => seen.has(x.message_id))).toHaveLength(seen.size);
    for (const m of items.filter((x) => seen.has(x.message_id)))
      expect(m.variant).toBe(seen.get(m.message_id));
  });

  it('splits a 10,000-recipient campaign within 1 % of the weights; stats name the winner; promoting it ends the test', async () => {
    const admin = await tenantWithTest([
      { ...variantsAB[0], weight: 70 },
      { ...variantsAB[1], weight: 30 },
    ]);
    for (let from = 0; from < 10_000; from += 5_000) {
      const recipients = Array.from({ length: 5_000 }, (_, k) => ({
        user_id: `u${String(from + k).padStart(5, '0')}`,
        phone_number: usNumber(from + k),
        roles: ['beneficiary'],
        attributes: { name: `N${from + k}` },
      }));
      await t.http().put('/api/sms/recipients').set(t.auth(admin)).send({ recipients }).expect(200);
    }
    const c = await t
      .http()
      .post('/api/sms/campaigns')
      .set(t.auth(admin))
      .send({ name: 'Spring', template_id: offer.template_id, recipient_filters: { roles: ['beneficiary'] } })
      .expect(201);
    const id = c.body.campaign_id;
    await t.http().post(`/api/sms/campaigns/${id}/execute`).set(t.auth(admin)).expect(202);
    await eventually(
      async () => {
        const [row] = await ds.query('SELECT snapshot_done FROM sms_campaigns WHERE id = $1', [id]);
        return row.snapshot_done ? true : undefined;
      },
      120_000,
      'the snapshot of 10,000 recipients',
    );
    // Only the split matters here: stop the drain.
    await t.http().post(`/api/sms/campaigns/${id}/cancel`).set(t.auth(admin));
    const split: { variant: string; n: number }[] = await ds.query(
      'SELECT variant, count(*)::int AS n FROM sms_messages WHERE campaign_id = $1 GROUP BY variant ORDER BY variant',
      [id],
    );
    expect(split.reduce((s, r) => s + r.n, 0)).toBe(10_000);
    expect(Math.abs(split[0].n / 10_000 - 0.7)).toBeLessThan(0.01);
    expect(Math.abs(split[1].n / 10_000 - 0.3)).toBeLessThan(0.01);
    // The campaign picks what a templated send to the same number picks.
    const [one]: { phone_number: string; variant: string }[] = await ds.query(
      'SELECT phone_number, variant FROM sms_messages WHERE campaign_id = $1 LIMIT 1',
      [id],
    );
    const direct = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(admin))
      .send({ phone_number: one.phone_number, template_id: offer.template_id, variables: { name: 'x' } })
      .expect(202);
    expect(direct.body.variant).toBe(one.variant);

    // Outcomes (as receipts and verified codes would set them): B delivers as well, converts better,
    // and costs more per message (as a provider's reported price may differ by text or route).
    await ds.query(
      `UPDATE sms_messages SET status = 'delivered', cost = CASE variant WHEN 'A' THEN 0.0079 ELSE 0.0095 END,
              converted_at = CASE WHEN (variant = 'A' AND right(phone_number, 2)::int < 8)
                                    OR (variant = 'B' AND right(phone_number, 2)::int < 16)
                                  THEN now() END
        WHERE campaign_id = $1`,
      [id],
    );
    // Clicks on tracked links (as GET /l/{code} records a message's first): A is clicked more.
    await ds.query(
      `WITH l AS (
         INSERT INTO sms_links (code, tenant_id, message_id, campaign_id, template_id, variant, target_url)
         SELECT substr(md5(id::text), 1, 12), tenant_id, id, campaign_id, template_id, variant, 'https://example.org/offer'
           FROM sms_messages
          WHERE campaign_id = $1 AND right(phone_number, 2)::int < CASE WHEN variant = 'A' THEN 20 ELSE 4 END
         RETURNING id, message_id, tenant_id, campaign_id, template_id, variant)
       INSERT INTO sms_link_clicks (message_id, link_id, tenant_id, campaign_id, template_id, variant, sent_at)
       SELECT message_id, id, tenant_id, campaign_id, template_id, variant, now() FROM l`,
      [id],
    );
    const stats = await t
      .http()
      .get(`/api/sms/templates/${offer.template_id}/variants`)
      .set(t.auth({ tenant: admin.tenant }))
      .expect(200);
    // A wins on clicks, B on verified codes: the code is what the text is for, so B is the winner.
    expect(stats.body).toMatchObject({ running: true, winner: 'B', winner_metric: 'converted' });
    expect(stats.body.clicked).toMatchObject({ leader: 'A', runner_up: 'B', significant: true });
    const [a, b] = stats.body.variants;
    const plusDirect = (key: string) => (one.variant === key ? 1 : 0);
    expect(a).toMatchObject({ key: 'A', weight: 70 });
    expect(a.click_rate).toBeGreaterThan(0.15);
    expect(b.click_rate).toBeLessThan(0.08);
    expect(a.messages).toBe(split[0].n + plusDirect('A'));
    expect(b.messages).toBe(split[1].n + plusDirect('B'));
    expect(a.delivered).toBeGreaterThanOrEqual(split[0].n);
    // Cost per variant: the exact sum of what was charged for its messages (the direct send went
    // to the sandbox, which reports no price: it adds nothing), and the sum of the estimates.
    expect(direct.body.estimated_cost).toEqual(expect.any(Number));
    const perMessage = Math.round(direct.body.estimated_cost * 1e6);
    expect(stats.body.currency).toBe('USD');
    expect(a.cost).toBe(sumOf(split[0].n, 7_900));
    expect(b.cost).toBe(sumOf(split[1].n, 9_500));
    expect(a.estimated_cost).toBe(sumOf(a.messages, perMessage));
    expect(b.estimated_cost).toBe(sumOf(b.messages, perMessage));
    expect(b.conversion_rate).toBeGreaterThan(a.conversion_rate);
    expect(stats.body.converted).toMatchObject({ leader: 'B', runner_up: 'A', significant: true });
    expect(stats.body.converted.note).toMatch(/^B wins on converted/);
    expect(stats.body.delivered.significant).toBe(false);

    // Ending the test: only admins; another tenant's template and an unknown variant are 404.
    const promote = `/api/sms/templates/${offer.template_id}/variants/B/promote`;
    await t
      .http()
      .post(promote)
      .set(t.auth({ tenant: admin.tenant }))
      .expect(403);
    await t
      .http()
      .post(promote)
      .set(t.auth({ tenant: freshTenantId(), roles: ['admin'] }))
      .expect(404);
    await t
      .http()
      .post(`/api/sms/templates/${offer.template_id}/variants/Z/promote`)
      .set(t.auth(admin))
      .expect(404);
    const promoted = await t.http().post(promote).set(t.auth(admin)).expect(200);
    expect(promoted.body).toMatchObject({
      content_en: variantsAB[1].content_en,
      content_tr: variantsAB[1].content_tr,
      variants: null,
      variants_started_at: null,
      version: 2,
    });
    const [audit] = await ds.query(
      `SELECT action, before, after FROM sms_audit_log WHERE tenant_id = $1 AND action = 'template.promote_variant'`,
      [admin.tenant],
    );
    expect(audit.before.variants).toHaveLength(2);
    expect(audit.after).toMatchObject({ variants: null, promoted_variant: 'B' });
    const after = await t
      .http()
      .post('/api/sms/send-templated')
      .set(t.auth(admin))
      .send({ phone_number: usNumber(7), template_id: offer.template_id, variables: { name: 'Zed' } })
      .expect(202);
    expect(after.body.variant).toBeNull();
    const ended = await t
      .http()
      .get(`/api/sms/templates/${offer.template_id}/variants`)
      .set(t.auth(admin))
      .expect(200);
    expect(ended.body).toMatchObject({ running: false, variants: [], winner: null });
  }, 240_000);

  it("counts a real click on a tracked link (GET /l/{code}) in that variant's stats and in link stats by variant", async () => {
    const admin = { tenant: freshTenantId(), roles: ['admin'] };
    await allowCountries(t, admin.tenant, ['US'], { link_tracking: true });
    const target = (v: string) => `https://school.example.org/spring?v=${v}`;
    await t
      .http()
      .post('/api/sms/templates')
      .set(t.auth(admin))
      .send({
        ...offer,
        template_id: 'spring_link',
        variants: [
          {
            ...variantsAB[0],
            content_en: `Hi {{name}}, book: ${target('a')}`,
            content_tr: `Merhaba {{name}}: ${target('a')}`,
          },
          {
            ...variantsAB[1],
            content_en: `{{name}}, 3 spots left: ${target('b')}`,
            content_tr: `{{name}}, 3 yer kaldı: ${target('b')}`,
          },
        ],
      })
      .expect(201);
    // Enough recipients that both variants are sent (the hash picks per number).
    const sent: { id: string; variant: string }[] = [];
    for (let i = 0; i < 16; i++) {
      const res = await t
        .http()
        .post('/api/sms/send-templated')
        .set(t.auth(admin))
        .send({ phone_number: usNumber(900 + i), template_id: 'spring_link', variables: { name: 'Ann' } })
        .expect(202);
      sent.push({ id: res.body.message_id, variant: res.body.variant });
    }
    const count = (v: string) => sent.filter((m) => m.variant === v).length;
    expect(count('A')).toBeGreaterThan(0);
    expect(count('B')).toBeGreaterThan(0);
    // The short link as the recipient got it (history shows the body as sent).
    const history = await t.http().get('/api/sms/history?limit=100').set(t.auth(admin)).expect(200);
    const bodyOf = (id: string): string =>
      history.body.items.find((m: { message_id: string }) => m.message_id === id).body;
    const clickedMessage = sent.find((m) => m.variant === 'B') as { id: string; variant: string };
    const code = /\/l\/([0-9A-Za-z]{8,})$/.exec(bodyOf(clickedMessage.id))?.[1];
    expect(code).toBeDefined();
    expect(bodyOf(clickedMessage.id)).not.toContain('school.example.org');
    // Clicked twice: one clicked message, two hits.
    for (let i = 0; i < 2; i++) {
      const click = await t.http().get(`/l/${code}`).expect(302);
      expect(click.headers.location).toBe(target('b'));
    }

    const stats = await t
      .http()
      .get('/api/sms/templates/spring_link/variants')
      .set(t.auth(admin))
      .expect(200);
    const [a, b] = stats.body.variants;
    expect(a).toMatchObject({ key: 'A', messages: count('A'), clicked: 0, click_rate: 0 });
    expect(b).toMatchObject({
      key: 'B',
      messages: count('B'),
      clicked: 1,
      click_rate: Math.round((1 / count('B')) * 10_000) / 10_000,
    });
    const links = await t.http().get('/api/sms/links/stats?group_by=variant').set(t.auth(admin)).expect(200);
    const rows = [...links.body.rows].sort((x: { variant: string }, y: { variant: string }) =>
      x.variant.localeCompare(y.variant),
    );
    expect(rows).toEqual([
      expect.objectContaining({
        template_id: 'spring_link',
        variant: 'A',
        messages: count('A'),
        clicked: 0,
        hits: 0,
      }),
      expect.objectContaining({
        template_id: 'spring_link',
        variant: 'B',
        messages: count('B'),
        clicked: 1,
        hits: 2,
      }),
    ]);
  });

  it("answers another tenant's template 404 (stats, promote, preview of a variant)", async () => {
    const owner = await tenantWithTest();
    const other = { tenant: freshTenantId(), roles: ['admin'] };
    await t.http().get(`/api/sms/templates/${offer.template_id}/variants`).set(t.auth(other)).expect(404);
    await t
      .http()
      .post(`/api/sms/templates/${offer.template_id}/variants/A/promote`)
      .set(t.auth(other))
      .expect(404);
    await t
      .http()
      .post(`/api/sms/templates/${offer.template_id}/preview`)
      .set(t.auth(other))
      .send({ variables: { name: 'x' }, variant: 'A' })
      .expect(404);
    const own = await t
      .http()
      .post(`/api/sms/templates/${offer.template_id}/preview`)
      .set(t.auth(owner))
      .send({ variables: { name: 'Ann' }, variant: 'B' })
      .expect(200);
    expect(own.body.text).toBe('Ann, 3 spots left in spring classes!');
    // The built-in defaults have no test: their stats are 404 too (a tenant's own templates only).
    await t.http().get('/api/sms/templates/general_notification/variants').set(t.auth(owner)).expect(404);
  });

  it('keeps the test when only the texts change, starts a new one when keys or weights change, ends it with null', async () => {
    const admin = await tenantWithTest();
    const path = `/api/sms/templates/${offer.template_id}`;
    const first = (await t.http().get(path).set(t.auth(admin)).expect(200)).body.variant_test_id;
    const reworded = await t
      .http()
      .patch(path)
      .set(t.auth(admin))
      .send({ variants: [{ ...variantsAB[0], content_en: 'Hello {{name}}, book today.' }, variantsAB[1]] })
      .expect(200);
    expect(reworded.body.variant_test_id).toBe(first);
    const reweighted = await t
      .http()
      .patch(path)
      .set(t.auth(admin))
      .send({
        variants: [
          { ...variantsAB[0], weight: 80 },
          { ...variantsAB[1], weight: 20 },
        ],
      })
      .expect(200);
    expect(reweighted.body.variant_test_id).not.toBe(first);
    const ended = await t.http().patch(path).set(t.auth(admin)).send({ variants: null }).expect(200);
    expect(ended.body).toMatchObject({
      variants: null,
      variants_started_at: null,
      content_en: offer.content_en,
    });
  });
});
