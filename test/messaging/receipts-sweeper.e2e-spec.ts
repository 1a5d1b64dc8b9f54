import Redis from 'ioredis';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { DELIVERY_QUEUE } from '../../src/messaging/delivery/delivery-queue';
import { DeliveryQueue } from '../../src/messaging/delivery/delivery-queue';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio } from '../fakes/fake-twilio';
import { waitForStatus } from '../support/messages';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

const PUBLIC_BASE_URL = 'https://sms.example.test';

describe('a replayed signed Twilio callback', () => {
  const twilioFake = new FakeTwilio();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
        TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
        TWILIO_PHONE_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: await twilioFake.start(),
        SMS_PROVIDERS: 'twilio',
        PUBLIC_BASE_URL,
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
  });

  it('is recorded once: no new event, no change, and the exact cost with its currency', async () => {
    const who = { tenant: freshTenantId() };
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: '+12025550123', message: 'replay me' })
      .expect(202);
    const id = res.body.message_id as string;
    const sent = await waitForStatus(t, who, id, 'sent');
    const params = {
      MessageSid: sent.provider_message_id,
      MessageStatus: 'delivered',
      Price: '-0.1000001',
      PriceUnit: 'eur',
    };
    const signature = twilio.getExpectedTwilioSignature(
      FAKE_TWILIO_TOKEN,
      `${PUBLIC_BASE_URL}/api/sms/webhooks/twilio/status`,
      params,
    );
    for (let i = 0; i < 3; i++) {
      await t
        .http()
        .post('/api/sms/webhooks/twilio/status')
        .type('form')
        .set('X-Twilio-Signature', signature)
        .send(params)
        .expect(204);
    }
    const status = await t.http().get(`/api/sms/messages/${id}/status`).set(t.auth(who)).expect(200);
    expect(status.body.status).toBe('delivered');
    expect(status.body.events.map((e: { status: string }) => e.status)).toEqual([
      'queued',
      'sending',
      'sent',
      'delivered',
    ]);
    const [row] = await t
      .get(DataSource)
      .query('SELECT cost::text AS cost, currency FROM sms_messages WHERE id = $1', [id]);
    expect(row).toEqual({ cost: '0.100000', currency: 'EUR' });
  });
});

describe('the sweeper after Redis came back empty', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: { SMS_ADMIN_RATE_LIMIT: '100000', SMS_WORKER_CONCURRENCY: '100', SANDBOX_DELIVERY_DELAY_MS: '0' },
    });
  });
  afterAll(() => t.close());

  it('re-queues the whole backlog within 10 s and every message is sent exactly once', async () => {
    const N = 3000;
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const queue = t.get(DeliveryQueue).queue;
    const ds = t.get(DataSource);
    await queue.pause(true); // this worker takes nothing while Redis "restarts"
    try {
      const numbers = Array.from({ length: N }, (_, i) => `+1202555${String(3000 + i)}`);
      const res = await t
        .http()
        .post('/api/sms/send-bulk')
        .set(t.auth(who))
        .send({ phone_numbers: numbers, message: 'backlog' })
        .expect(202);
      expect(res.body.accepted).toBe(N);
      // An empty restart: every key of this run's delivery queue is gone (never FLUSHALL: Redis is shared).
      const redis = new Redis(t.config.get('REDIS_URL'));
      try {
        const keys: string[] = [];
        const stream = redis.scanStream({
          match: `{${t.config.get('REDIS_PREFIX')}}:${DELIVERY_QUEUE}:*`,
          count: 1000,
        });
        for await (const batch of stream) keys.push(...(batch as string[]));
        for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      } finally {
        await redis.quit();
      }
      expect(await queue.count()).toBe(0);
    } finally {
      await queue.resume(true);
    }
    const lostAt = Date.now();
    // Within 10 s the sweeper (its own interval, no help from the test) has every message in Redis again.
    await eventually(
      async () => {
        const jobs = await queue.getJobs(['waiting', 'active', 'delayed']);
        const inRedis = new Set(jobs.flatMap((j) => ('ids' in j.data ? j.data.ids : [j.data.id])));
        const [{ left }] = await ds.query(
          `SELECT count(*)::int AS left FROM sms_messages WHERE tenant_id = $1 AND status IN ('queued', 'scheduled')`,
          [who.tenant],
        );
        const queuedRows: { id: string }[] = await ds.query(
          `SELECT id FROM sms_messages WHERE tenant_id = $1 AND status = 'queued'`,
          [who.tenant],
        );
        return left === 0 || queuedRows.every((r) => inRedis.has(r.id)) ? true : undefined;
      },
      10_000,
      'the backlog to be back in Redis',
    );
    expect(Date.now() - lostAt).toBeLessThan(10_000);
    await eventually(
      async () => {
        const [{ left }] = await ds.query(
          `SELECT count(*)::int AS left FROM sms_messages WHERE tenant_id = $1 AND status NOT IN ('sent', 'delivered')`,
          [who.tenant],
        );
        return left === 0 ? true : undefined;
      },
      90_000,
      'the backlog to drain',
    );
    const [{ sends }] = await ds.query(
      `SELECT count(*)::int AS sends FROM sms_message_events e JOIN sms_messages m ON m.id = e.message_id
        WHERE m.tenant_id = $1 AND e.status = 'sending'`,
      [who.tenant],
    );
    expect(sends).toBe(N); // one attempt each: nothing doubled
  }, 120_000);
});
