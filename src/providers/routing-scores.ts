import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { ProviderName } from '../core/message-types';
import { RedisService } from '../redis/redis.module';
import { providerOrder } from './provider-order';
import {
  ALL_COUNTRIES,
  Bucket,
  CALL_METRICS,
  callBucketRange,
  field,
  maturedSendRange,
  readSignals,
  RECEIPTS_REMEMBERED_MS,
  RoutingWindows,
  routingWindows,
  SEND_METRICS,
  SignalsRead,
  UNKNOWN_COUNTRY,
} from './routing-counters';
import { CountryRouting, ProviderSignals, routeCountry, RoutingPolicy } from './routing-policy';

/** How a provider call ended, as the router classified it. */
export type CallOutcome = 'ok' | 'retryable' | 'permanent' | 'timeout';

/** A final receipt of a sent message, for the delivery signals. */
export interface ReceiptFact {
  provider: ProviderName;
  /** ISO alpha-2 of the recipient's number; null when it has none. */
  country: string | null;
  sentAt: Date;
  at: Date;
  status: 'delivered' | 'undelivered' | 'failed';
}

/** What /health/providers, /metrics and the dashboard show of adaptive routing. */
export interface RoutingSnapshot {
  adaptive: boolean;
  /** Scores were read from Redis recently; false: every message takes the configured order. */
  available: boolean;
  refreshedAt: string | null;
  callWindowSeconds: number;
  deliveryWindowSeconds: number;
  /** Destinations by recent traffic (at most `limit`), then `*`: each provider over every destination. */
  destinations: { country: string; routing: CountryRouting; signals: ProviderSignals[] }[];
}

/**
 * The live score of each provider per destination country, shared by every process.
 *
 * Counting is cheap and never in a send's way: a call, a receipt or a conversion adds to this
 * process's pending counts in memory. Every SMS_ROUTING_REFRESH_MS (SmsRouter's loop) one MULTI
 * adds them to time-bucketed Redis hashes (HINCRBY, with a TTL) and reads back the buckets the
 * windows need, so every worker and api process sees the same figures within a refresh; the
 * router then routes from this process's copy without a round trip. Closed call buckets are read
 * once. Every key carries one hash tag (`{routing-<accounts>}`, a hash of the providers' account
 * and endpoints), so a MULTI stays in one Redis Cluster slot, and deployments that share a Redis
 * prefix but not their provider accounts keep apart.
 *
 * When Redis fails, nothing else does: the pending counts wait (or are dropped when the MULTI's
 * fate is unknown: they are statistics), and once the copy is older than five refreshes (at least
 * 5 s) `routing()` answers null and every message takes the configured order.
 */
@Injectable()
export class RoutingScores {
  private readonly logger = new Logger(RoutingScores.name);
  readonly adaptive: boolean;
  readonly order: ProviderName[];
  readonly policy: RoutingPolicy;
  readonly refreshMs: number;
  private readonly windows: RoutingWindows;
  private readonly staleMs: number;
  private readonly tag: string;
  /** Counts not yet in Redis: `c:<idx>` (call bucket) or `s:<idx>` (send bucket) → field → n. */
  private pending = new Map<string, Map<string, number>>();
  /** Provider|country pairs that sent a receipt since the last refresh → when. */
  private receiptsSeen = new Map<string, number>();
  private readonly callBuckets = new Map<number, Bucket>();
  /** When each call bucket was last read (a bucket read after it closed is final). */
  private readonly callReadAt = new Map<number, number>();
  private sendBuckets = new Map<number, Bucket>();
  private receipting = new Map<string, number>();
  private read: SignalsRead | null = null;
  private routes = new Map<string, CountryRouting>();
  /** The routing of a destination without traffic of its own: every provider's figures over all. */
  private unseen: CountryRouting | null = null;
  /** Wall-clock time (Date.now) of the last successful read. */
  private refreshedAt: number | null = null;
  private refreshing: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  private failing = false;

  constructor(
    config: AppConfig,
    private readonly redis: RedisService,
    private readonly clock: Clock,
  ) {
    this.order = providerOrder(config);
    // With one provider there is nothing to choose: nothing is counted, exchanged or read.
    this.adaptive = config.get('SMS_ROUTING_ADAPTIVE') && this.order.length > 1;
    this.refreshMs = config.get('SMS_ROUTING_REFRESH_MS');
    this.staleMs = Math.max(5 * this.refreshMs, 5000);
    const callWindowSeconds = config.get('SMS_ROUTING_CALL_WINDOW_SECONDS');
    const deliveryWindowSeconds = config.get('SMS_ROUTING_DELIVERY_WINDOW_MINUTES') * 60;
    const slowDeliverySeconds = config.get('SMS_ROUTING_SLOW_DELIVERY_SECONDS');
    this.windows = routingWindows(callWindowSeconds, deliveryWindowSeconds, slowDeliverySeconds);
    this.policy = {
      minSamples: config.get('SMS_ROUTING_MIN_SAMPLES'),
      errorRate: config.get('SMS_ROUTING_ERROR_PERCENT') / 100,
      errorCount: config.get('SMS_ROUTING_ERROR_COUNT'),
      latencyMs: config.get('SMS_ROUTING_LATENCY_MS'),
      slowDeliverySeconds,
      slowDeliveryShare: config.get('SMS_ROUTING_SLOW_DELIVERY_PERCENT') / 100,
      conversionGap: config.get('SMS_ROUTING_CONVERSION_GAP_PERCENT') / 100,
      probeShare: config.get('SMS_ROUTING_PROBE_PERCENT') / 100,
      callWindowSeconds,
      deliveryWindowSeconds,
    };
    const accounts = [
      config.get('TWILIO_ACCOUNT_SID') ?? '',
      config.get('TWILIO_API_BASE_URL') ?? '',
      config.get('AWS_REGION'),
      config.get('AWS_SNS_ENDPOINT') ?? '',
    ].join('\n');
    this.tag = `{routing-${createHash('sha256').update(accounts).digest('hex').slice(0, 8)}}`;
  }

  // ---- counting (any process; never throws, never waits) ----

  /** One provider call of a send to `country`: how it ended and its wall time; `code`: a code message. */
  recordCall(
    provider: ProviderName,
    country: string | null,
    outcome: CallOutcome,
    ms: number,
    code: boolean,
  ): void {
    if (!this.adaptive) return;
    const now = this.now();
    const c = country ?? UNKNOWN_COUNTRY;
    const calls = `c:${Math.floor(now / this.windows.callBucketMs)}`;
    this.add(calls, field(provider, c, CALL_METRICS.calls), 1);
    if (outcome === 'retryable' || outcome === 'timeout')
      this.add(calls, field(provider, c, CALL_METRICS.errors), 1);
    else {
      // Answered: a permanent answer ("invalid number") is the provider working.
      this.add(calls, field(provider, c, CALL_METRICS.latencySum), Math.max(0, Math.round(ms)));
      this.add(calls, field(provider, c, CALL_METRICS.answered), 1);
    }
    if (outcome === 'ok') {
      const sends = this.sendKey(now);
      this.add(sends, field(provider, c, SEND_METRICS.sent), 1);
      if (code) this.add(sends, field(provider, c, SEND_METRICS.codes), 1);
    }
  }

  /** A sent message's first final receipt (delivered, undelivered or failed). */
  recordReceipt(r: ReceiptFact): void {
    if (!this.adaptive) return;
    const c = r.country ?? UNKNOWN_COUNTRY;
    const delay = Math.max(0, r.at.getTime() - r.sentAt.getTime());
    const sends = this.sendKey(r.sentAt.getTime());
    this.add(sends, field(r.provider, c, SEND_METRICS.receipted), 1);
    if (delay <= this.windows.slowDeliveryMs) this.add(sends, field(r.provider, c, SEND_METRICS.inTime), 1);
    if (r.status === 'delivered') {
      this.add(sends, field(r.provider, c, SEND_METRICS.delivered), 1);
      this.add(sends, field(r.provider, c, SEND_METRICS.deliveredSum), Math.round(delay / 1000));
    }
    const at = r.at.getTime();
    this.receiptsSeen.set(`${r.provider}|${c}`, at);
    this.receiptsSeen.set(`${r.provider}|${ALL_COUNTRIES}`, at);
  }

  /**
   * The hook of code conversion: a verification code sent through `provider` to a number of
   * `country` (ISO alpha-2, e.g. from `countryOfNumber`; null when it has none) was entered
   * correctly `secondsFromSend` after it was sent (its `sent_at`). Call it once per converted
   * message, when the check succeeds. It counts towards the send's own time bucket; a provider
   * whose conversion rate for a country falls behind the others' loses first attempts there
   * (SMS_ROUTING_CONVERSION_GAP_PERCENT). Never throws, never waits.
   */
  recordConversion(provider: ProviderName, country: string | null, secondsFromSend: number): void {
    if (!this.adaptive || !Number.isFinite(secondsFromSend) || secondsFromSend < 0) return;
    const c = country ?? UNKNOWN_COUNTRY;
    const sends = this.sendKey(this.now() - secondsFromSend * 1000);
    this.add(sends, field(provider, c, SEND_METRICS.converted), 1);
    this.add(sends, field(provider, c, SEND_METRICS.convertSum), Math.round(secondsFromSend));
  }

  // ---- reading (the router, monitoring) ----

  /** The shares for a destination, or null when scores are off or not fresh (take the configured order). */
  routing(country: string | null): CountryRouting | null {
    if (!this.available()) return null;
    return this.routes.get(country ?? UNKNOWN_COUNTRY) ?? this.unseen;
  }

  available(): boolean {
    return this.adaptive && this.refreshedAt !== null && Date.now() - this.refreshedAt <= this.staleMs;
  }

  /** The busiest `limit` destinations and the every-destination figures, for the operator. */
  snapshot(limit = 20): RoutingSnapshot {
    const destinations: RoutingSnapshot['destinations'] = [];
    const read = this.read;
    if (read) {
      const countries = [...read.traffic.keys()].slice(0, limit);
      for (const country of [...countries, ALL_COUNTRIES]) {
        const routing = this.routes.get(country);
        const signals = read.byCountry.get(country);
        if (routing && signals) destinations.push({ country, routing, signals: [...signals.values()] });
      }
    }
    return {
      adaptive: this.adaptive,
      available: this.available(),
      refreshedAt: this.refreshedAt === null ? null : new Date(this.refreshedAt).toISOString(),
      callWindowSeconds: this.policy.callWindowSeconds,
      deliveryWindowSeconds: this.policy.deliveryWindowSeconds,
      destinations,
    };
  }

  // ---- the exchange with Redis (SmsRouter's loop) ----

  /**
   * Adds the pending counts to Redis and reads the buckets the windows need, in one MULTI; then
   * recomputes every destination's shares. A call made while an exchange runs waits for it and
   * for one more (which takes what was counted meanwhile); calls made meanwhile share that one.
   * Never throws.
   */
  refresh(): Promise<void> {
    if (!this.adaptive) return Promise.resolve();
    if (this.refreshing) {
      this.next ??= this.refreshing.then(() => {
        this.next = null;
        return this.refresh();
      });
      return this.next;
    }
    this.refreshing = this.exchange().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async exchange(): Promise<void> {
    const now = this.now();
    this.prunePending(now);
    // While Redis is away a command would wait for its timeout: the counts wait for it instead
    // (a first connection still under way is waited for: that is every process's start).
    if (
      !this.redis.isUp() &&
      this.redis.client.status !== 'connecting' &&
      this.redis.client.status !== 'connect'
    )
      return this.failed('Redis is not connected');
    const writes = this.pending;
    const seen = this.receiptsSeen;
    this.pending = new Map();
    this.receiptsSeen = new Map();
    const w = this.windows;
    const m = this.redis.client.multi();
    let writeCount = 0;
    for (const [k, fields] of writes) {
      const key = this.key(k);
      for (const [f, n] of fields) m.hincrby(key, f, n);
      m.pexpire(key, this.ttl(k));
      writeCount += fields.size + 1;
    }
    const receipting = this.key('receipting');
    if (seen.size > 0) {
      m.hset(receipting, Object.fromEntries(seen));
      m.pexpire(receipting, RECEIPTS_REMEMBERED_MS);
      writeCount += 2;
    }
    const grace = 2 * this.refreshMs + 2000;
    const callRange = callBucketRange(now, w);
    const callIdx = callRange.filter((i) => {
      const readAt = this.callReadAt.get(i);
      return readAt === undefined || readAt < (i + 1) * w.callBucketMs + grace;
    });
    const sendIdx = maturedSendRange(now, w);
    m.hgetall(receipting);
    for (const i of callIdx) m.hgetall(this.key(`c:${i}`));
    for (const i of sendIdx) m.hgetall(this.key(`s:${i}`));
    let res: [Error | null, unknown][] | null;
    try {
      // Counts whose MULTI failed are dropped: it may have been applied.
      res = await m.exec();
    } catch (e) {
      return this.failed(e);
    }
    if (!res) return this.failed('the MULTI was discarded');
    const reads = res.slice(writeCount);
    const bad = reads.find(([err]) => err);
    if (bad) return this.failed(bad[0]);
    const hash = (i: number): Bucket => toBucket(reads[i][1]);
    this.receipting = hash(0);
    const oldest = callRange[0];
    for (const i of this.callBuckets.keys()) if (i < oldest) this.callBuckets.delete(i);
    for (const i of this.callReadAt.keys()) if (i < oldest) this.callReadAt.delete(i);
    callIdx.forEach((i, n) => {
      this.callBuckets.set(i, hash(1 + n));
      this.callReadAt.set(i, now);
    });
    this.sendBuckets = new Map(sendIdx.map((i, n) => [i, hash(1 + callIdx.length + n)]));
    this.recompute(now);
    this.refreshedAt = Date.now();
    if (this.failing) this.logger.log('routing scores are read from Redis again');
    this.failing = false;
  }

  private recompute(now: number): void {
    const read = readSignals(
      now,
      this.order,
      this.callBuckets,
      this.sendBuckets,
      this.receipting,
      this.windows,
      this.policy.minSamples,
    );
    const routes = new Map<string, CountryRouting>();
    for (const [country, signals] of read.byCountry)
      routes.set(country, routeCountry(this.order, signals, this.policy));
    const widened = new Map<ProviderName, ProviderSignals>();
    for (const [p, s] of read.byCountry.get(ALL_COUNTRIES) ?? []) {
      widened.set(p, { ...s, widened: { calls: s.calls > 0, delivery: s.matured > 0, codes: s.codes > 0 } });
    }
    this.unseen = routeCountry(this.order, widened, this.policy);
    this.read = read;
    this.routes = routes;
  }

  private failed(e: unknown): void {
    if (!this.failing) {
      this.logger.warn(
        { err: String(e) },
        'routing scores not exchanged with Redis: messages take the configured order once the scores are stale',
      );
    }
    this.failing = true;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private sendKey(at: number): string {
    return `s:${Math.floor(at / this.windows.sendBucketMs)}`;
  }

  private key(k: string): string {
    return this.redis.key(this.tag, k);
  }

  /** How long a bucket is kept: as long as a read can still need it, and a little more. */
  private ttl(k: string): number {
    const w = this.windows;
    return k.startsWith('c:')
      ? w.callMemoryMs + 2 * w.callBucketMs
      : w.slowDeliveryMs + w.deliveryWindowMs + 2 * w.sendBucketMs;
  }

  private add(k: string, f: string, n: number): void {
    if (n === 0) return;
    let fields = this.pending.get(k);
    if (!fields) this.pending.set(k, (fields = new Map()));
    fields.set(f, (fields.get(f) ?? 0) + n);
  }

  /** Pending counts of buckets no read needs any more are dropped (Redis was away that long). */
  private prunePending(now: number): void {
    for (const k of this.pending.keys()) {
      const idx = Number(k.slice(2));
      const bucketMs = k.startsWith('c:') ? this.windows.callBucketMs : this.windows.sendBucketMs;
      if ((idx + 1) * bucketMs + this.ttl(k) < now) this.pending.delete(k);
    }
  }
}

/** An HGETALL answer as counts. */
function toBucket(v: unknown): Bucket {
  const out: Bucket = new Map();
  if (v && typeof v === 'object') {
    for (const [k, raw] of Object.entries(v as Record<string, string>)) {
      const n = Number(raw);
      if (Number.isFinite(n)) out.set(k, n);
    }
  }
  return out;
}
