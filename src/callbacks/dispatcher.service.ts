import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { ClaimedDelivery, DeliveriesRepository, DeliveryStatus } from './deliveries.repository';
import { withMessageFailure } from './message-failure';
import { SecretBox } from './secret-box';
import { SIGNATURE_HEADER, signWebhook } from './signature';
import { CallbackUrlGuard, TargetRefusedError } from './url-policy';
import { postJson, PostResult } from './webhook-http';

const MAX_BACKOFF_MS = 3600_000;
/** A claimed row is somebody else's again this long after its attempt could have ended. */
const LEASE_SLACK_MS = 30_000;

/** Exponential backoff with ±20% jitter: base, 2×base, 4×base… capped at one hour. */
export function retryDelayMs(attempts: number, baseMs: number, random: () => number = Math.random): number {
  const exp = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

/** How often a worker fails the expired deliveries of paused endpoints (`expirePaused`). */
const EXPIRE_PAUSED_EVERY_MS = 60_000;

/**
 * The callback sender. Apart from SMS delivery: each tick (the `callbacks` job, every
 * WEBHOOK_DISPATCH_INTERVAL_MS on every worker) fills its free slots (WEBHOOK_CONCURRENCY) with due
 * outbox rows and starts their sends without waiting for them, so a slow or failing receiver holds
 * at most those slots and never a sending worker. The claim is fair (`DeliveriesRepository.claimDue`):
 * at most WEBHOOK_ENDPOINT_CONCURRENCY in flight per endpoint across all workers, round-robin
 * across endpoints, none for an endpoint backed off or paused after failing again and again; so
 * one tenant's receiver that hangs holds that many slots, not all of them. Rows are claimed with
 * FOR UPDATE SKIP LOCKED and a lease, so replicas share the work and a crash loses nothing (the
 * row comes due again). A 2xx ends the row as delivered: it is never sent again unless replayed;
 * anything else is retried with backoff until 24 hours after the event. On shutdown the sends in
 * flight are awaited.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private claiming = false;
  private stopped = false;
  /** The last target the previous claim reached: the next one starts after it (round-robin). */
  private after: string | null = null;
  private expiredPausedAt = 0;
  private readonly inFlight = new Set<Promise<DeliveryStatus>>();

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly urls: CallbackUrlGuard,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Claims what the free slots can take and starts sending it; returns how many were claimed. */
  async tick(): Promise<number> {
    return (await this.claim()).length;
  }

  /** One tick whose sends are awaited (`npm run job -- callbacks`): what the claimed rows became. */
  async runOnce(): Promise<Record<DeliveryStatus, number> & { claimed: number }> {
    const sends = await this.claim();
    const outcomes = await Promise.all(sends);
    const count = (o: DeliveryStatus) => outcomes.filter((x) => x === o).length;
    return {
      claimed: sends.length,
      delivered: count('delivered'),
      pending: count('pending'),
      failed: count('failed'),
    };
  }

  /** Claims due rows for the free slots and starts their sends; each resolves with the row's outcome. */
  private async claim(): Promise<Promise<DeliveryStatus>[]> {
    if (this.claiming || this.stopped) return [];
    const free = this.config.get('WEBHOOK_CONCURRENCY') - this.inFlight.size;
    if (free <= 0) return [];
    this.claiming = true;
    try {
      const now = this.clock.now();
      await this.expirePaused(now);
      const lease = new Date(now.getTime() + this.config.get('WEBHOOK_TIMEOUT_MS') + LEASE_SLACK_MS);
      const { deliveries: claimed, lastTarget } = await this.deliveries.claimDue({
        now,
        leaseUntil: lease,
        limit: free,
        perTarget: this.config.get('WEBHOOK_ENDPOINT_CONCURRENCY'),
        after: this.after,
      });
      if (lastTarget !== null) this.after = lastTarget;
      return claimed.map((d) => {
        const p = this.attempt(d).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
        return p;
      });
    } catch (e) {
      this.logger.error({ err: String(e) }, 'webhook claim failed');
      return [];
    } finally {
      this.claiming = false;
    }
  }

  /** At most once a minute per worker: paused endpoints keep their deliveries, not past their window. */
  private async expirePaused(now: Date): Promise<void> {
    if (now.getTime() - this.expiredPausedAt < EXPIRE_PAUSED_EVERY_MS) return;
    this.expiredPausedAt = now.getTime();
    try {
      const n = await this.deliveries.expirePaused(now);
      if (n > 0) this.logger.log({ failed: n }, 'webhook deliveries of paused endpoints expired');
    } catch (e) {
      this.logger.error({ err: String(e) }, 'webhook expiry of paused endpoints failed');
    }
  }

  /** Sends one claimed row and records the attempt; never throws. */
  private async attempt(d: ClaimedDelivery): Promise<DeliveryStatus> {
    const started = performance.now();
    let result: PostResult & { final?: boolean };
    try {
      result = await this.send(d);
    } catch (e) {
      result = { statusCode: null, error: e instanceof Error ? e.message : String(e) };
    }
    const at = this.clock.now();
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    let outcome: DeliveryStatus = 'pending';
    let next: Date | null = null;
    if (ok) outcome = 'delivered';
    else if (result.final || at.getTime() >= d.expiresAt.getTime()) outcome = 'failed';
    else {
      const delay = retryDelayMs(d.attempts, this.config.get('WEBHOOK_RETRY_BASE_MS'));
      next = new Date(Math.min(at.getTime() + delay, d.expiresAt.getTime()));
    }
    try {
      const { pausedNow } = await this.deliveries.recordAttempt(
        d,
        {
          at,
          statusCode: result.statusCode,
          error: result.error,
          durationMs: Math.round(performance.now() - started),
          outcome,
          nextAttemptAt: next,
          // Never sent (blocked, refused): says nothing about the receiver.
          verdict: ok ? 'success' : result.final ? null : 'failure',
        },
        {
          backoffAfter: this.config.get('WEBHOOK_ENDPOINT_BACKOFF_AFTER'),
          pauseAfter: this.config.get('WEBHOOK_ENDPOINT_PAUSE_AFTER'),
          backoffBaseMs: this.config.get('WEBHOOK_RETRY_BASE_MS'),
        },
      );
      if (pausedNow)
        this.logger.warn(
          {
            endpoint: d.endpointId,
            tenant: d.tenantId,
            failures: pausedNow.failures,
            reason: pausedNow.reason,
          },
          'webhook endpoint paused: it takes no deliveries until a replay or a resume',
        );
    } catch (e) {
      // The lease runs out and the row is tried again: at least once, never lost.
      this.logger.error({ err: String(e), delivery: d.id }, 'webhook attempt not recorded');
    }
    if (!ok)
      this.logger.warn(
        { delivery: d.id, event: d.eventId, status: result.statusCode, error: result.error, outcome },
        'webhook delivery attempt failed',
      );
    return outcome;
  }

  /** `final`: not worth retrying (endpoint gone, no secret, an address we refuse to call). */
  private async send(d: ClaimedDelivery): Promise<PostResult & { final?: boolean }> {
    if (d.blocked !== null) return { statusCode: null, error: d.blocked, final: true };
    // Unsealed only between the alert_webhook_url migration and the first start-up's sealing.
    const secret = d.secretCiphertext !== null ? this.box.open(d.secretCiphertext) : d.secretUnsealed;
    if (secret === null) return { statusCode: null, error: 'no signing secret', final: true };
    let target;
    try {
      target = await this.urls.target(d.url);
    } catch (e) {
      // A refused address is final; a resolver that did not answer in time is tried again later.
      if (e instanceof TargetRefusedError)
        return {
          statusCode: null,
          error: e.transient ? e.message : `refused: ${e.message}`,
          final: !e.transient,
        };
      throw e;
    }
    const p = d.payload;
    const data = withMessageFailure(p.type, p.data);
    const body = JSON.stringify({ id: p.id, type: p.type, created_at: p.created_at, data });
    const t = Math.floor(this.clock.now().getTime() / 1000);
    return postJson(
      target,
      body,
      {
        [SIGNATURE_HEADER]: signWebhook(secret, body, t),
        'X-SMS-Event-Id': p.id,
        'X-SMS-Event-Type': p.type,
        'X-SMS-Delivery-Id': d.id,
      },
      this.config.get('WEBHOOK_TIMEOUT_MS'),
    );
  }
}
