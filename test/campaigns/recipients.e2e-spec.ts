import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

describe('recipient directory', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const admin = () => ({ tenant: freshTenantId(), roles: ['admin'] });

  it('upserts rows, rejects bad ones by user_id and reason, and is idempotent', async () => {
    const who = admin();
    const body = {
      recipients: [
        { user_id: 'u1', phone_number: '+12025550101', roles: ['beneficiary'], attributes: { name: 'Ann' } },
        {
          user_id: 'u2',
          phone_number: '(202) 555-0102',
          roles: ['trainer'],
          language: 'tr',
          tags: ['ankara'],
        },
        { user_id: 'u3', phone_number: '12', roles: ['beneficiary'] },
        { user_id: 'u4', phone_number: '+12025550104', language: 'de' },
        { user_id: 'u5', phone_number: '+12025550105', timezone: 'Mars/Olympus' },
        { user_id: 'u6', phone_number: '+12025550106', attributes: { name: { nested: true } } },
        { phone_number: '+12025550107' },
      ],
    };
    const res = await t.http().put('/api/sms/recipients').set(t.auth(who)).send(body).expect(200);
    expect(res.body).toEqual({
      upserted: 2,
      rejected: [
        { user_id: 'u3', reason: 'invalid_phone' },
        { user_id: 'u4', reason: 'invalid_language' },
        { user_id: 'u5', reason: 'invalid_timezone' },
        { user_id: 'u6', reason: 'invalid_attributes' },
        { user_id: null, reason: 'invalid_user_id' },
      ],
    });
    const u2 = await t.http().get('/api/sms/recipients/u2').set(t.auth(who)).expect(200);
    expect(u2.body).toMatchObject({
      phone_number: '+12025550102',
      language: 'tr',
      tags: ['ankara'],
      active: true,
    });
    const first = u2.body.updated_at;
    await t.http().put('/api/sms/recipients').set(t.auth(who)).send(body).expect(200);
    const again = await t.http().get('/api/sms/recipients/u2').set(t.auth(who)).expect(200);
    expect(again.body.updated_at).toBe(first);

    // a change is applied
    await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(who))
      .send({ recipients: [{ user_id: 'u2', phone_number: '+12025550199', active: false }] })
      .expect(200);
    const changed = await t.http().get('/api/sms/recipients/u2').set(t.auth(who)).expect(200);
    expect(changed.body).toMatchObject({
      phone_number: '+12025550199',
      active: false,
      roles: [],
      language: null,
    });

    const audit = await t.http().get('/api/sms/audit?action=recipients.upsert').set(t.auth(who)).expect(200);
    expect(audit.body.items.length).toBe(3);
    expect(JSON.stringify(audit.body.items)).not.toContain('+1202555');
  });

  it('lists by role, language and tag with a cursor; 404 for another tenant; deletes', async () => {
    const who = admin();
    const recipients = Array.from({ length: 25 }, (_, i) => ({
      user_id: `user${String(i).padStart(3, '0')}`,
      phone_number: `+1202555${String(1000 + i)}`,
      roles: [i % 2 ? 'trainer' : 'beneficiary'],
      language: i % 5 === 0 ? 'tr' : undefined,
      tags: i < 3 ? ['vip'] : [],
    }));
    await t.http().put('/api/sms/recipients').set(t.auth(who)).send({ recipients }).expect(200);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/sms/recipients?role=beneficiary&limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await t.http().get(q).set(t.auth(who));
      if (page.status !== 200) throw new Error(page.text);
      seen.push(...page.body.items.map((r: { user_id: string }) => r.user_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(recipients.filter((_, i) => i % 2 === 0).map((r) => r.user_id));
    const tr = await t.http().get('/api/sms/recipients?language=tr').set(t.auth(who)).expect(200);
    expect(tr.body.items.map((r: { user_id: string }) => r.user_id)).toEqual([
      'user000',
      'user005',
      'user010',
      'user015',
      'user020',
    ]);
    const en = await t.http().get('/api/sms/recipients?language=en&limit=1000').set(t.auth(who)).expect(200);
    expect(en.body.items).toHaveLength(20);
    const vip = await t.http().get('/api/sms/recipients?tag=vip').set(t.auth(who)).expect(200);
    expect(vip.body.items).toHaveLength(3);

    await t.http().get('/api/sms/recipients/user001').set(t.auth(admin())).expect(404);
    await t.http().delete('/api/sms/recipients/user001').set(t.auth(admin())).expect(404);
    await t.http().delete('/api/sms/recipients/user001').set(t.auth(who)).expect(204);
    await t.http().get('/api/sms/recipients/user001').set(t.auth(who)).expect(404);
    await t.http().get('/api/sms/recipients?cursor=bogus').set(t.auth(who)).expect(400);
  });

  it('is for tenant admins only', async () => {
    const user = { tenant: freshTenantId() };
    await t.http().get('/api/sms/recipients').set(t.auth(user)).expect(403);
    await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(user))
      .send({ recipients: [{ user_id: 'x', phone_number: '+12025550101' }] })
      .expect(403);
  });

  it('stores 10,000 recipients in one request', async () => {
    const who = admin();
    const recipients = Array.from({ length: 10_000 }, (_, i) => ({
      user_id: `p${i}`,
      phone_number: `+1202${String(5550000 + (i % 10000)).padStart(7, '0')}`,
      roles: ['beneficiary'],
      attributes: { name: `Person ${i}` },
    }));
    const started = Date.now();
    const res = await t.http().put('/api/sms/recipients').set(t.auth(who)).send({ recipients }).expect(200);
    const ms = Date.now() - started;
    expect(res.body.upserted + res.body.rejected.length).toBe(10_000);
    expect(res.body.upserted).toBeGreaterThan(9_000);
    // One INSERT … unnest statement; the bound is loose: the whole request on a shared, loaded 2-core machine.
    expect(ms).toBeLessThan(20_000);
    await t
      .http()
      .put('/api/sms/recipients')
      .set(t.auth(who))
      .send({ recipients: [...recipients, { user_id: 'extra', phone_number: '+12025550101' }] })
      .expect(400);
  });
});
