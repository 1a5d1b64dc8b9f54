import { Client as PgClient } from 'pg';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { createDataSource } from '../../src/database/data-source';
import { DeliveryQueue } from '../../src/messaging/delivery/delivery-queue';
import { ReceiptsService } from '../../src/messaging/receipts/receipts.service';
import { CircuitsOpenError, SmsRouter } from '../../src/providers';
import type { OutboundSms } from '../../src/providers';
import type { RouteOutcome } from '../../src/providers/provider-router';
import { FakeClock } from '../support/fake-clock';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

const numbers = (n: number, from = 2000) =>
  Array.from({ length: n }, (_, i) => `+1202555${String(from + i)}`);

describe('delivery worker', () => {
  let db: DataSource;
  beforeAll(async () => {
    db = await createDataSource(process.env.DATABASE_URL as string, 2).initialize();
  });
  afterAll(() => db.destroy());

  const statuses = async (ids: string[]) =>
    (await db.query(
      'SELECT id, status, attempts, error_code, error_message FROM sms_messages WHERE id = ANY($1)',
      [ids],
    )) as {
      id: string;
      status: string;
      attempts: number;
      error_code: string | null;
      error_message: string | null;
    }[];
  const countBy = async (ids: string[]) => {
    const out: Record<string, number> = {};
    for (const r of await statuses(ids)) out[r.status] = (out[r.status] ?? 0) + 1;
    return out;
  };
  const allIn = (ids: string[], status: string, timeoutMs = 30_000) =>
    eventually(
      async () => ((await countBy(ids))[status] === ids.length ? true : undefined),
      timeoutMs,
      `${ids.length} messages ${status}`,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}; seen ${JSON.stringify(await countBy(ids))}`, { cause: e });
    });

  const bulk = async (t: TestApp, tenant: number, phones: string[], extra: Record<string, unknown> = {}) => {
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth({ tenant, roles: ['admin'] }))
      .send({ phone_numbers: phones, message: 'delivery test', ...extra })
      .expect(202);
    return res.body.message_ids as string[];
  };

  describe('receipts racing the worker (A3)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        env: { SMS_ADMIN_RATE_LIMIT: '100000', SANDBOX_DELIVERY_DELAY_MS: '3600000' },
      });
    });
    afterAll(() => t.close());

    it('applies every delivered receipt that arrives while the worker records sent: 1,000 of 1,000 delivered', async () => {
      const router = t.get(SmsRouter).router;
      const receipts = t.get(ReceiptsService);
      const applied: Promise<unknown>[] = [];
      let n = 0;
      // The provider calls back before its send() has returned, at a random moment around the
      // worker's write of 'sent' (the sandbox and fast carriers do).
      jest.spyOn(router, 'send').mockImplementation(async (sms: OutboundSms): Promise<RouteOutcome> => {
        n += 1;
        const providerMessageId = `RACE${n}${sms.messageId.slice(0, 8)}`;
        applied.push(
          new Promise((r) => setTimeout(r, Math.random() * 30)).then(() =>
            receipts.apply({
              provider: 'sandbox',
              providerMessageId,
              status: 'delivered',
              providerStatus: 'delivered',
              source: 'sandbox',
            }),
          ),
        );
        return {
          result: { provider: 'sandbox', providerMessageId, status: 'sent', cost: null, currency: null },
          tried: [{ provider: 'sandbox' }],
        };
      });
      const ids = await bulk(t, freshTenantId(), numbers(1000));
      await eventually(async () => (applied.length === 1000 ? true : undefined), 30_000, '1,000 sends');
      await Promise.all(applied);
      await allIn(ids, 'delivered', 10_000);
      const [{ parked }] = await db.query(
        `SELECT count(*)::int AS parked FROM sms_parked_receipts WHERE provider_message_id LIKE 'RACE%'`,
      );
      expect(parked).toBe(0);
      const [{ events }] = await db.query(
        `SELECT count(*)::int AS events FROM sms_message_events WHERE message_id = ANY($1) AND status = 'delivered'`,
        [ids],
      );
      expect(events).toBe(1000);
    });
  });

  describe('outcome writes (A2)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '3600000' } });
    });
    afterAll(() => t.close());

    it('retries an outcome write that PostgreSQL refused: nothing a provider took is stranded in sending', async () => {
      // At the driver, under TypeORM's query runners (a transaction's or the pool's).
      const proto = PgClient.prototype as unknown as { query: (...a: unknown[]) => Promise<unknown> };
      const real = proto.query;
      let refused = 0;
      const spy = jest.spyOn(proto, 'query').mockImplementation(function (this: unknown, ...args: unknown[]) {
        // The outcome statement fails three times, as during a short PostgreSQL outage.
        if (typeof args[0] === 'string' && args[0].includes('sms_record_outcomes(') && refused < 3) {
          refused += 1;
          return Promise.reject(new Error('Connection terminated unexpectedly'));
        }
        return real.apply(this, args);
      });
      try {
        const ids = await bulk(t, freshTenantId(), numbers(30));
        await allIn(ids, 'sent', 20_000);
        expect(refused).toBe(3);
        const rows = await statuses(ids);
        expect(rows.every((r) => r.attempts === 1)).toBe(true);
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('slot hand-over: one statement records an outcome and claims the next message', () => {
    const concurrency = 5;
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        env: {
          SMS_WORKER_CONCURRENCY: String(concurrency),
          SANDBOX_LATENCY_MS: '2',
          SANDBOX_DELIVERY_DELAY_MS: '3600000',
        },
      });
    });
    afterAll(() => t.close());
    afterEach(() => jest.restoreAllMocks());

    /** Spies on the driver's statements: counts what the combined call recorded and claimed. */
    const statements = (refuseCombined = 0) => {
      const proto = PgClient.prototype as unknown as { query: (...a: unknown[]) => Promise<unknown> };
      const real = proto.query;
      const seen = { combined: 0, handedOver: 0, refused: 0 };
      jest.spyOn(proto, 'query').mockImplementation(function (this: unknown, ...args: unknown[]) {
        if (typeof args[0] === 'string' && args[0].includes('sms_record_outcomes_and_claim(')) {
          if (seen.refused < refuseCombined) {
            seen.refused += 1;
            return Promise.reject(new Error('Connection terminated unexpectedly'));
          }
          seen.combined += 1;
          seen.handedOver += ((args[1] as unknown[])[12] as string[]).length;
        }
        return real.apply(this, args);
      });
      return seen;
    };

    it('hands each freed slot to a waiting message with its claim: never more than SMS_WORKER_CONCURRENCY sending', async () => {
      const tenant = freshTenantId();
      const router = t.get(SmsRouter).router;
      const real = router.send.bind(router);
      let maxSending = 0;
      // Each hand-over to the provider happens while its row is 'sending': the count then is the
      // tenant's rows in flight.
      jest.spyOn(router, 'send').mockImplementation(async (sms) => {
        const [{ n }] = await db.query(
          `SELECT count(*)::int AS n FROM sms_messages WHERE tenant_id = $1 AND status = 'sending'`,
          [tenant],
        );
        maxSending = Math.max(maxSending, n);
        return real(sms);
      });
      const seen = statements();
      const ids = await bulk(t, tenant, numbers(60));
      await allIn(ids, 'sent', 20_000);
      // 60 messages, 5 slots: the first 5 are claimed alone, the other 55 as a slot's hand-over.
      expect(seen.handedOver).toBeGreaterThanOrEqual(50);
      expect(maxSending).toBeGreaterThan(0);
      expect(maxSending).toBeLessThanOrEqual(concurrency);
      expect((await statuses(ids)).every((r) => r.attempts === 1)).toBe(true);
    });

    it('a hand-over PostgreSQL refused loses nothing: the outcome is written alone, the next message claimed later', async () => {
      const seen = statements(3);
      const ids = await bulk(t, freshTenantId(), numbers(60, 3000));
      await allIn(ids, 'sent', 20_000);
      expect(seen.refused).toBe(3);
      expect(seen.combined).toBeGreaterThan(0);
      // Each message went to the provider once: a refused hand-over claimed nothing.
      expect((await statuses(ids)).every((r) => r.attempts === 1)).toBe(true);
    });
  });

  describe('every provider down (A7)', () => {
    let t: TestApp;
    const clock = new FakeClock();
    beforeAll(async () => {
      t = await createTestApp({
        env: { SANDBOX_DELIVERY_DELAY_MS: '10', SMS_MAX_ATTEMPTS: '2', SMS_OUTAGE_TOLERANCE_MINUTES: '2' },
        override: (b) => b.overrideProvider(Clock).useValue(clock),
      });
    });
    afterAll(() => t.close());

    const outage = () => {
      const router = t.get(SmsRouter).router;
      const real = router.send.bind(router);
      let down = true;
      let refusals = 0;
      const spy = jest.spyOn(router, 'send').mockImplementation(async (sms) => {
        if (!down) return real(sms);
        refusals += 1;
        throw new CircuitsOpenError(Date.now() + 100, {
          provider: 'twilio',
          code: 'twilio:http_503',
          message: 'Service Unavailable',
        });
      });
      return {
        up: () => (down = false),
        refusals: () => refusals,
        restore: () => spy.mockRestore(),
      };
    };

    it('waits for the providers without spending attempts, keeps their error, then delivers every message', async () => {
      const o = outage();
      try {
        const ids = await bulk(t, freshTenantId(), numbers(50));
        // Many trials while every circuit is open: far more than SMS_MAX_ATTEMPTS per message.
        await eventually(async () => (o.refusals() > 50 * 4 ? true : undefined), 20_000, 'refusals');
        const during = await statuses(ids);
        expect(during.filter((r) => r.status === 'failed')).toEqual([]);
        const waiting = during.filter((r) => r.status === 'queued');
        expect(waiting.length).toBeGreaterThan(0);
        for (const r of waiting) {
          expect(r).toMatchObject({
            attempts: 0,
            error_code: 'twilio:http_503',
            error_message: 'Service Unavailable',
          });
        }
        o.up();
        await allIn(ids, 'delivered', 20_000);
        expect((await statuses(ids)).every((r) => r.attempts === 1)).toBe(true);
      } finally {
        o.restore();
      }
    });

    it('fails a message only once the outage outlasts SMS_OUTAGE_TOLERANCE_MINUTES, with the provider error', async () => {
      const o = outage();
      try {
        const ids = await bulk(t, freshTenantId(), numbers(5, 3000));
        await eventually(async () => (o.refusals() > 5 * 3 ? true : undefined), 20_000, 'refusals');
        expect((await countBy(ids)).failed).toBeUndefined();
        clock.advance(2 * 60_000 + 1_000);
        await allIn(ids, 'failed', 20_000);
        for (const r of await statuses(ids)) {
          expect(r).toMatchObject({ error_code: 'twilio:http_503', error_message: 'Service Unavailable' });
        }
      } finally {
        o.restore();
      }
    });
  });

  describe('deactivated tenant (issue 8, item 2)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
    });
    afterAll(() => t.close());

    it('hands nothing of a deactivated tenant to a provider: queued and scheduled end canceled tenant_deactivated', async () => {
      const tenant = freshTenantId();
      const who = { tenant, roles: ['admin'] };
      const router = t.get(SmsRouter).router;
      const handedOver: string[] = [];
      const real = router.send.bind(router);
      const spy = jest.spyOn(router, 'send').mockImplementation(async (sms) => {
        handedOver.push(sms.messageId);
        return real(sms);
      });
      // The worker is held so the queued ones are still queued when the tenant is deactivated.
      const queue = t.get(DeliveryQueue).queue;
      await queue.pause(true);
      try {
        const queued = await bulk(t, tenant, numbers(20, 4000));
        const at = new Date(Date.now() + 2_000).toISOString();
        const scheduled: string[] = [];
        for (const phone of numbers(3, 5000)) {
          const res = await t
            .http()
            .post('/api/sms/schedule')
            .set(t.auth(who))
            .send({ phone_number: phone, message: 'later', scheduled_time: at })
            .expect(202);
          scheduled.push(res.body.message_id as string);
        }
        const single = await t
          .http()
          .post('/api/sms/send')
          .set(t.auth(who))
          .send({ phone_number: '+12025556000', message: 'single' })
          .expect(202);
        const ids = [...queued, ...scheduled, single.body.message_id as string];
        await t
          .http()
          .patch(`/api/sms/tenants/${tenant}`)
          .set(t.auth({ tenant, roles: ['super_admin'] }))
          .send({ active: false })
          .expect(200);
        await queue.resume(true);
        await allIn(ids, 'canceled', 20_000);
        for (const r of await statuses(ids))
          expect(r).toMatchObject({ error_code: 'tenant_deactivated', attempts: 0 });
        expect(handedOver.filter((id) => ids.includes(id))).toEqual([]);
      } finally {
        await queue.resume(true).catch(() => undefined);
        spy.mockRestore();
      }
    });
  });

  describe('graceful stop (A5)', () => {
    it('stops taking work at once on close: at most SMS_WORKER_CONCURRENCY hand-overs after, none left sending, < 10 s', async () => {
      const concurrency = 10;
      const t = await createTestApp({
        env: {
          SANDBOX_LATENCY_MS: '150',
          SANDBOX_DELIVERY_DELAY_MS: '3600000',
          SMS_WORKER_CONCURRENCY: String(concurrency),
          SMS_ADMIN_RATE_LIMIT: '100000',
        },
      });
      const router = t.get(SmsRouter).router;
      const real = router.send.bind(router);
      let closing = false;
      let handedOverAfter = 0;
      jest.spyOn(router, 'send').mockImplementation(async (sms) => {
        if (closing) handedOverAfter += 1;
        return real(sms);
      });
      const ids = await bulk(t, freshTenantId(), numbers(800));
      await eventually(async () => ((await countBy(ids)).sent >= 100 ? true : undefined), 20_000, '100 sent');
      closing = true;
      const started = Date.now();
      await t.close();
      const took = Date.now() - started;
      const after = await countBy(ids);
      expect(took).toBeLessThan(10_000);
      expect(handedOverAfter).toBeLessThanOrEqual(concurrency);
      expect(after.sending).toBeUndefined();
      expect(after.queued).toBeGreaterThan(0); // left for another worker, not sent by this one
      expect((after.sent ?? 0) + (after.queued ?? 0)).toBe(ids.length);
      // The hand-over jobs stay in this run's queue: make them no-ops for the other test files' apps.
      await db.query(`UPDATE sms_messages SET status = 'canceled' WHERE id = ANY($1) AND status = 'queued'`, [
        ids,
      ]);
    });
  });
});
