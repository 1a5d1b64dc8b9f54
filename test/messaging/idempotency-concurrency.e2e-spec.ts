import { DataSource } from 'typeorm';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';

/** Issue 7 A1: many concurrent requests with one Idempotency-Key once locked the process up. */
describe('idempotency under concurrency', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_RATE_LIMIT: '1000', DATABASE_POOL_SIZE: '5' },
    });
  });
  afterAll(() => t.close());

  it('answers 200 concurrent same-key sends with one message, 409s and replays, and stays responsive', async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const body = { phone_number: '+12025550123', message: 'exactly once' };
    const answers = await Promise.all(
      Array.from({ length: 200 }, () =>
        t.http().post('/api/sms/send').set(t.auth(who)).set('Idempotency-Key', 'burst').send(body),
      ),
    );
    const accepted = answers.filter((a) => a.status === 202);
    const first = accepted.filter((a) => a.headers['idempotent-replayed'] !== 'true');
    expect(first).toHaveLength(1);
    const id = first[0].body.message_id;
    for (const a of answers) {
      if (a.status === 202) {
        expect(a.body).toEqual(first[0].body);
      } else {
        expect(a.status).toBe(409);
        expect(a.headers['retry-after']).toBe('1');
        expect(a.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
        expect(a.body.message).toContain('burst');
      }
    }
    const ds = t.get(DataSource);
    const rows = await ds.query('SELECT id FROM sms_messages WHERE tenant_id = $1', [who.tenant]);
    expect(rows).toEqual([{ id }]);
    await waitForStatus(t, who, id, 'delivered');
    const handedOver = await ds.query(
      `SELECT count(*)::int AS n FROM sms_message_events WHERE message_id = $1 AND status = 'sent'`,
      [id],
    );
    expect(handedOver[0].n).toBe(1);

    // The service answers normally right after.
    const started = Date.now();
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ ...body, message: 'plain' })
      .expect(202);
    await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('claims one key sent at once with two bodies once: the other body is a 422, the same body a 409 or the replay', async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const bodies = [
      { phone_number: '+12025550123', message: 'first body' },
      { phone_number: '+12025550123', message: 'second body' },
    ];
    // Sent together, so their claims share batches: a key asked twice in one is decided there.
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        t
          .http()
          .post('/api/sms/send')
          .set(t.auth(who))
          .set('Idempotency-Key', 'two-bodies')
          .send(bodies[i % 2])
          .then((a) => ({ a, body: i % 2 })),
      ),
    );
    const first = answers.filter(({ a }) => a.status === 202 && a.headers['idempotent-replayed'] !== 'true');
    expect(first).toHaveLength(1);
    const winner = first[0].body;
    for (const { a, body } of answers) {
      if (body !== winner) {
        expect(a.status).toBe(422);
        expect(a.body).toMatchObject({ statusCode: 422, message: expect.stringContaining('two-bodies') });
      } else if (a.status === 202) expect(a.body).toEqual(first[0].a.body);
      else expect(a.status).toBe(409);
    }
    const rows = await t
      .get(DataSource)
      .query('SELECT body FROM sms_messages WHERE tenant_id = $1', [who.tenant]);
    expect(rows).toEqual([{ body: bodies[winner].message }]);
  });

  it("answers a key whose request is committing at once, and does not hold up other keys' claims meanwhile", async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const body = { phone_number: '+12025550123', message: 'slow to commit' };
    const send = (key: string) =>
      t.http().post('/api/sms/send').set(t.auth(who)).set('Idempotency-Key', key).send(body);
    await send('committing').expect(202);
    const ds = t.get(DataSource);
    // The key's row locked as a request completing it holds it (a 10,000-number bulk's insert, say),
    // from another connection, for longer than the answers may take.
    const holder = ds.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query(
        `SELECT 1 FROM sms_idempotency_keys WHERE tenant_id = $1 AND key = 'committing' FOR UPDATE`,
        [who.tenant],
      );
      const started = Date.now();
      // Sent together, so their claims share a batch.
      const [again, other] = await Promise.all([send('committing'), send('another-key')]);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(again.status).toBe(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(other.status).toBe(202);
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
  });

  it('lets a key past its 24 hours, or abandoned by a request that died, be taken again, by one request', async () => {
    const who = { tenant: freshTenantId(), user: 'u1' };
    const ds = t.get(DataSource);
    const send = (key: string, message: string) =>
      t
        .http()
        .post('/api/sms/send')
        .set(t.auth(who))
        .set('Idempotency-Key', key)
        .send({ phone_number: '+12025550123', message });
    await send('aged', 'yesterday').expect(202);
    await ds.query(
      `UPDATE sms_idempotency_keys SET created_at = now() - interval '25 hours' WHERE tenant_id = $1`,
      [who.tenant],
    );
    // A claim whose request died before it completed (no result), a minute and more ago.
    await ds.query(
      `INSERT INTO sms_idempotency_keys (tenant_id, user_id, key, request_hash, claim_id, created_at)
       VALUES ($1, 'u1', 'abandoned', repeat('0', 64), gen_random_uuid(), now() - interval '61 seconds')`,
      [who.tenant],
    );
    // Each stale key asked by three requests at once: one takes it over, the others see it taken.
    const answers = await Promise.all(
      ['aged', 'abandoned'].flatMap((key) => [1, 2, 3].map(() => send(key, `today ${key}`))),
    );
    for (const key of [0, 1]) {
      const mine = answers.slice(key * 3, key * 3 + 3);
      const fresh = mine.filter((a) => a.status === 202 && a.headers['idempotent-replayed'] !== 'true');
      expect(fresh).toHaveLength(1);
      for (const a of mine) expect([202, 409]).toContain(a.status);
    }
    const rows = await ds.query('SELECT body FROM sms_messages WHERE tenant_id = $1 ORDER BY body', [
      who.tenant,
    ]);
    expect(rows).toEqual([{ body: 'today abandoned' }, { body: 'today aged' }, { body: 'yesterday' }]);
    // Taken over, the key replays its new answer.
    const replay = await send('aged', 'today aged').expect(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('commits concurrent sends with distinct keys of several tenants together: each stored once, under its own key, replayed as answered', async () => {
    const tenants = [freshTenantId(), freshTenantId(), freshTenantId()];
    const sends = tenants.flatMap((tenant) =>
      Array.from({ length: 20 }, (_, i) => ({
        who: { tenant, user: `u${i % 2}` },
        key: `k-${i}`,
        body: { phone_number: `+1202555${String(2000 + i).padStart(4, '0')}`, message: `keyed ${i}` },
      })),
    );
    const post = (s: (typeof sends)[number]) =>
      t.http().post('/api/sms/send').set(t.auth(s.who)).set('Idempotency-Key', s.key).send(s.body);
    const first = await Promise.all(sends.map(post));
    expect(first.map((a) => a.status)).toEqual(sends.map(() => 202));
    const again = await Promise.all(sends.map(post));
    again.forEach((a, i) => {
      expect(a.headers['idempotent-replayed']).toBe('true');
      expect(a.body).toEqual(first[i].body);
    });
    const rows: { tenant_id: number; n: number }[] = await t
      .get(DataSource)
      .query(
        'SELECT tenant_id, count(DISTINCT id)::int AS n FROM sms_messages WHERE tenant_id = ANY($1) GROUP BY tenant_id ORDER BY tenant_id',
        [tenants],
      );
    expect(rows).toEqual([...tenants].sort((a, b) => a - b).map((tenant_id) => ({ tenant_id, n: 20 })));
    expect(new Set(first.map((a) => a.body.message_id)).size).toBe(sends.length);
  });
});
