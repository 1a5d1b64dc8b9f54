import { ConversionObserver } from '../../../src/core';
import { loadConfig } from '../../../src/config/app-config';
import { MessagingModule, ReceiptsService } from '../../../src/messaging';
import { RoutingScores } from '../../../src/providers';
import { RedisService } from '../../../src/redis/redis.module';
import { FakeClock } from '../../support/fake-clock';
import { createMediumContext, MediumContext } from '../medium-context';
import { freshTenantId, markSent, newMessages } from '../factories';

/**
 * The routing scores are shared by every process through Redis: a worker counts its provider
 * calls, an api process the receipts its webhooks apply, and each reads what all of them counted.
 * Here each "process" is a RoutingScores of its own, on a Redis connection of its own.
 */
describe('routing scores shared through Redis', () => {
  // Each suite run gets accounts of its own (the scores' keys hash them), so earlier runs do not count.
  const accounts = {
    TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
    TWILIO_AUTH_TOKEN: 'token',
    TWILIO_PHONE_NUMBER: '+15005550006',
    TWILIO_API_BASE_URL: `http://twilio-${Date.now()}-${Math.random().toString(36).slice(2)}.test`,
    AWS_ACCESS_KEY_ID: 'AKIAFAKE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    SMS_PROVIDERS: 'twilio,sns',
    SMS_ROUTING_MIN_SAMPLES: '20',
  };
  const processes: { scores: RoutingScores; redis: RedisService }[] = [];
  const clock = new FakeClock();

  const process = (env: Record<string, string> = {}) => {
    const config = loadConfig({ ...globalThis.process.env, ...accounts, ...env });
    const redis = new RedisService(config);
    const scores = new RoutingScores(config, redis, clock);
    processes.push({ scores, redis });
    return scores;
  };
  afterAll(async () => {
    for (const p of processes) await p.redis.onApplicationShutdown();
  });

  it("moves another process's first attempts away from a provider one process saw failing", async () => {
    const worker = process();
    const other = process();
    // 40 calls to US numbers, 12 of them failed (30 %).
    for (let i = 0; i < 40; i++)
      worker.recordCall('twilio', 'US', i % 10 < 3 ? 'retryable' : 'ok', 180, false);
    await worker.refresh();
    await other.refresh();
    expect(other.available()).toBe(true);
    const us = other.routing('US');
    expect(us?.shift).toEqual({ from: 'twilio', to: 'sns', reason: 'errors 30 % over 60 s' });
    expect(us?.shares).toEqual([
      { provider: 'twilio', share: expect.closeTo(0.05, 5) },
      { provider: 'sns', share: expect.closeTo(0.95, 5) },
    ]);
    // A destination Twilio did not fail for has too few calls of its own: it takes Twilio's
    // figures over every destination.
    expect(other.routing('DE')?.shift?.reason).toBe('errors 30 % over 60 s over all destinations');
    const snapshot = other.snapshot();
    expect(snapshot.destinations.map((d) => d.country)).toEqual(['US', '*']);
  });

  it('adds up what several processes count', async () => {
    const a = process({ TWILIO_API_BASE_URL: `${accounts.TWILIO_API_BASE_URL}/b` });
    const b = process({ TWILIO_API_BASE_URL: `${accounts.TWILIO_API_BASE_URL}/b` });
    // Neither alone has the 20 calls a judgement needs; together they have 24, half failed.
    for (let i = 0; i < 12; i++) a.recordCall('twilio', 'TR', i % 2 ? 'retryable' : 'ok', 150, false);
    for (let i = 0; i < 12; i++) b.recordCall('twilio', 'TR', i % 2 ? 'timeout' : 'ok', 150, false);
    await a.refresh();
    await b.refresh();
    await a.refresh();
    expect(a.routing('TR')?.shift?.reason).toBe('errors 50 % over 60 s');
    expect(b.routing('TR')?.shift?.reason).toBe('errors 50 % over 60 s');
  });

  it('answers no shares while Redis is unreachable, and counting never throws', async () => {
    const down = process({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CONNECT_TIMEOUT_MS: '200' });
    down.recordCall('twilio', 'US', 'retryable', 10, false);
    down.recordConversion('twilio', 'US', 12);
    await expect(down.refresh()).resolves.toBeUndefined();
    expect(down.available()).toBe(false);
    expect(down.routing('US')).toBeNull();
    expect(down.snapshot()).toMatchObject({ adaptive: true, available: false, destinations: [] });
  });
});

describe('routing scores fed by receipts (the api process) and code conversion', () => {
  let ctx: MediumContext;
  const env = {
    TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
    TWILIO_AUTH_TOKEN: 'token',
    TWILIO_PHONE_NUMBER: '+15005550006',
    TWILIO_API_BASE_URL: `http://twilio-receipts-${Date.now()}-${Math.random().toString(36).slice(2)}.test`,
    AWS_ACCESS_KEY_ID: 'AKIAFAKE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    SMS_PROVIDERS: 'twilio,sns',
    PUBLIC_BASE_URL: 'https://sms.example.test',
  };
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [MessagingModule], env });
  });
  afterAll(() => ctx.close());

  it("moves first attempts away when 15 % of a provider's sends get no receipt within 5 minutes (GOV.UK Notify's rule)", async () => {
    const scores = ctx.get(RoutingScores);
    const receipts = ctx.get(ReceiptsService);
    const tenant = freshTenantId();
    const ids = await newMessages(ctx.ds, { tenant, n: 40, phone: '+905321234567' });
    await markSent(ctx.ds, ids, 'twilio');
    // The worker's side: 40 sends to Turkish numbers, counted as it made them.
    for (let i = 0; i < 40; i++) scores.recordCall('twilio', 'TR', 'ok', 200, false);
    // Receipts for 34 of them arrive at once (in time); 6 (15 %) never do.
    for (const id of ids.slice(0, 34)) {
      const result = await receipts.apply({
        provider: 'twilio',
        providerMessageId: `SM${id.replace(/-/g, '')}`,
        status: 'delivered',
        providerStatus: 'delivered',
        source: 'twilio',
      });
      expect(result).toBe('applied');
    }
    await scores.refresh();
    expect(scores.routing('TR')?.shift).toBeNull(); // too early to judge: sent less than 5 minutes ago
    ctx.clock.advance(7 * 60_000);
    await scores.refresh();
    const tr = scores.routing('TR');
    expect(tr?.shift).toEqual({ from: 'twilio', to: 'sns', reason: 'slow-delivery 15 % over 10 min' });
    const signals = scores.snapshot().destinations.find((d) => d.country === 'TR')?.signals[0];
    expect(signals).toMatchObject({
      provider: 'twilio',
      matured: 40,
      receipted: 34,
      inTime: 34,
      delivered: 34,
      reportsReceipts: true,
    });
  });

  it('moves code traffic towards the provider whose codes convert', async () => {
    const scores = ctx.get(RoutingScores);
    for (let i = 0; i < 40; i++) {
      scores.recordCall('twilio', 'GB', 'ok', 200, true);
      scores.recordCall('sns', 'GB', 'ok', 200, true);
    }
    // The hook verification calls when a code is entered: 20 of Twilio's 40, 36 of SNS's.
    for (let i = 0; i < 20; i++) scores.recordConversion('twilio', 'GB', 30);
    for (let i = 0; i < 36; i++) scores.recordConversion('sns', 'GB', 25);
    await scores.refresh();
    ctx.clock.advance(6 * 60_000);
    await scores.refresh();
    const gb = scores.routing('GB');
    expect(gb?.shift).toEqual({
      from: 'twilio',
      to: 'sns',
      reason: "code conversion 50 % against sns's 90 % over 10 min",
    });
    const twilio = scores.snapshot().destinations.find((d) => d.country === 'GB')?.signals[0];
    expect(twilio).toMatchObject({ codes: 40, converted: 20, convertSeconds: 30 });
  });
});

describe('code conversions reach the routing scores', () => {
  it("binds messaging's ConversionObserver port to RoutingScores.recordConversion", async () => {
    const ctx = await createMediumContext({ imports: [MessagingModule] });
    try {
      const record = jest.spyOn(ctx.get(RoutingScores), 'recordConversion');
      const observer = ctx.get(ConversionObserver);
      await observer.converted({
        tenantId: freshTenantId(),
        provider: 'twilio',
        country: 'TR',
        messageType: '2fa_code',
        secondsFromSend: 12,
      });
      expect(record).toHaveBeenCalledWith('twilio', 'TR', 12);
    } finally {
      await ctx.close();
    }
  });
});
