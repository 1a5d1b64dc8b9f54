import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { isAdmin, Principal } from '../../auth/principal';
import { Batcher } from '../../common/batcher';
import { Clock } from '../../common/clock';
import { ValidationFailedError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { analyzeText } from '../../core/encoding';
import { PhoneService } from '../../phone';
import { SmsRouter } from '../../providers';
import { TenantsService } from '../../tenancy';
import { DeliveryQueue, Lane, laneOf } from '../delivery/delivery-queue';
import { isQuietHours, quietUntil, recipientZone } from '../../core/quiet-hours';
import { sumMicros, toAmount } from '../../core/money';
import { IdempotencyService, KeyOwner } from '../policies/idempotency.service';
import { OptOutsService } from '../policies/opt-outs.service';
import { PricingService } from '../policies/pricing.service';
import { DestinationPolicy } from '../policies/destination-policy';
import { RateLimiterService, RateLimitState } from '../policies/rate-limiter.service';
import { MessagesRepository, NewBatch, NewMessage } from '../repositories/messages.repository';
import {
  Accepted,
  AcceptInput,
  AcceptResult,
  fromStoredResult,
  MAX_SCHEDULE_AHEAD_MS,
  SendContext,
  toStoredResult,
} from './accept.types';
import { BodyCrypto, redact } from './body-crypto';
import { commitGroups, isPostgresDataError } from './group-commit';
import { checkMetadata } from './metadata';
import { SpendCapPolicy } from '../../monitoring';
import { urlProblem } from '../../callbacks'; // t2 (callbacks)

/** Rows ready to insert (tenant, creator and key are added at insert time) and the result. */
interface Prepared {
  rows: Omit<NewMessage, 'tenantId' | 'createdBy' | 'idempotencyKey' | 'createdAt'>[];
  /** A bulk's shared metadata, stored once. */
  batchMetadata: Record<string, unknown> | null;
  result: AcceptResult;
}

/** What one request writes: its messages and, for a bulk with metadata, its batch row. */
interface Write {
  messages: NewMessage[];
  batch: NewBatch | null;
}

/**
 * Accepts messages: validate, claim the Idempotency-Key (or replay its result), take the rate
 * limit, write every row, then queue delivery after commit. Returns a domain result
 * (`Accepted`); HTTP controllers and the SDK present it.
 */
@Injectable()
export class AcceptService {
  private readonly logger = new Logger(AcceptService.name);
  /**
   * Rows of concurrent requests, written by one statement (group commit); when the database
   * refuses it for one request's data, only that request fails (see commitGroups).
   */
  private readonly inserts = new Batcher<Write, unknown>(
    (writes) =>
      commitGroups(
        writes,
        (ws) =>
          this.messages.insertMany(
            this.ds.manager,
            ws.flatMap((w) => w.messages),
            'api',
            ws.flatMap((w) => (w.batch ? [w.batch] : [])),
          ),
        isPostgresDataError,
      ),
    200,
  );
  /** Jobs of concurrent requests, added by one addBulk. */
  private readonly enqueues = new Batcher<{ id: string; delayMs: number; lane: Lane }[], void>(
    async (groups) => {
      await this.queue.enqueue(groups.flat());
      return groups.map(() => undefined);
    },
    200,
  );

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly messages: MessagesRepository,
    private readonly phone: PhoneService,
    private readonly pricing: PricingService,
    private readonly router: SmsRouter,
    private readonly rateLimiter: RateLimiterService,
    private readonly idempotency: IdempotencyService,
    private readonly queue: DeliveryQueue,
    private readonly tenants: TenantsService,
    private readonly optOuts: OptOutsService,
    private readonly crypto: BodyCrypto,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly destinations: DestinationPolicy,
    private readonly spendCap: SpendCapPolicy, // monitoring: monthly_spend_cap (402)
  ) {}

  async accept(ctx: SendContext, input: AcceptInput): Promise<Accepted> {
    const now = this.clock.now();
    const prepared = this.prepare(input, now);
    const lane = laneOf(input.messageType, input.transactional);
    const { tenantId, userId } = ctx.principal;
    const owner: KeyOwner = { tenantId, userId };
    const key = ctx.idempotencyKey;
    let claimId: string | null = null;
    if (key) {
      // Before the rate limit: a duplicate neither counts nor waits.
      const claim = await this.idempotency.claim(
        owner,
        key,
        this.idempotency.hash(ctx.route, ctx.requestBody),
      );
      if (!claim.claimed)
        return { result: fromStoredResult(claim.stored, claim.createdAt), replayed: true, rateLimit: null };
      claimId = claim.claimId;
    }
    if (lane === 'promotional') await this.deferQuietHours(tenantId, prepared, now);
    let rateLimit: RateLimitState;
    try {
      rateLimit = await this.write(ctx.principal, prepared, input, now, key ?? null, claimId);
    } catch (e) {
      if (key && claimId) await this.idempotency.release(owner, key, claimId).catch(() => undefined);
      throw e;
    }
    await this.enqueueAfterCommit(prepared, lane, now);
    return { result: prepared.result, replayed: false, rateLimit };
  }

  /**
   * Quiet hours (the tenant's `quiet_hours`): a promotional message due inside the window in the
   * recipient's time zone (their number's country's when it has one, else the tenant's, else
   * UTC) is `scheduled` for the window's end instead, never dropped. The result then says
   * `scheduled` with the latest such time. Codes and transactional messages never wait.
   */
  private async deferQuietHours(tenantId: number, prepared: Prepared, now: Date): Promise<void> {
    const settings = (await this.tenants.ensure(tenantId)).settings;
    const window = settings.quiet_hours;
    if (!isQuietHours(window)) return;
    let latest: Date | null = null;
    prepared.rows = prepared.rows.map((r) => {
      const due = r.scheduledAt ?? now;
      // prepare() keeps each row's country (not a column) for the policies.
      const country = (r as { country?: string | null }).country ?? null;
      const until = quietUntil(due, recipientZone(null, country, settings.timezone ?? undefined), window);
      if (until === null || until.getTime() <= due.getTime()) return r;
      if (latest === null || until > latest) latest = until;
      return { ...r, status: 'scheduled', scheduledAt: until } as const;
    });
    if (latest === null) return;
    prepared.result.status = 'scheduled';
    prepared.result.scheduledAt = latest;
  }

  /**
   * Destination rules and opt-outs, the rate limit and code limits, then the rows (and the
   * idempotency result) in one commit. A refusal stores nothing and gives back what it took.
   */
  private async write(
    principal: Principal,
    prepared: Prepared,
    input: AcceptInput,
    now: Date,
    key: string | null,
    claimId: string | null,
  ): Promise<RateLimitState> {
    const { tenantId, userId } = principal;
    await this.destinations.screen(tenantId, input.mode, prepared);
    const codes = this.destinations.codeAllowance(tenantId, input.messageType, now);
    await this.excludeOptedOut(tenantId, prepared, input.mode);
    await this.spendCap.check(tenantId, sumMicros(prepared.rows.map((r) => r.estimatedCost)) ?? 0); // monitoring hook: 402 past monthly_spend_cap
    const count = prepared.rows.length;
    const rateLimit = await this.rateLimiter.consume(
      tenantId,
      userId,
      count,
      await this.limitFor(principal),
      now,
    );
    const write: Write = {
      messages: prepared.rows.map((r) => ({
        ...r,
        tenantId,
        createdBy: userId,
        idempotencyKey: key,
        createdAt: now,
      })),
      batch:
        prepared.batchMetadata && prepared.result.batchId
          ? { id: prepared.result.batchId, tenantId, metadata: prepared.batchMetadata, createdAt: now }
          : null,
    };
    try {
      await codes.take(prepared.rows); // a 429 here gives the recipient quota back below
      if (key === null || claimId === null) {
        const err = await this.inserts.submit(write);
        if (err !== null) throw err;
      } else {
        await this.ds.transaction(async (manager) => {
          await this.idempotency.complete(
            manager,
            { tenantId, userId },
            key,
            claimId,
            toStoredResult(prepared.result),
          );
          await this.messages.insertMany(manager, write.messages, 'api', write.batch ? [write.batch] : []);
        });
      }
    } catch (e) {
      await this.rateLimiter.refund(tenantId, userId, count, now).catch(() => undefined);
      await codes.refund();
      throw e;
    }
    return rateLimit;
  }

  /**
   * Adds the jobs after commit: a bulk as chunk jobs (100 messages each, so 10,000 numbers are 100
   * jobs), a single message through the batcher that shares one addBulk between concurrent
   * requests. A failure here loses nothing: the rows are committed and the sweeper queues them.
   */
  private async enqueueAfterCommit(
    prepared: Prepared,
    lane: Exclude<Lane, 'campaign'>,
    now: Date,
  ): Promise<void> {
    const result = prepared.result;
    const ids = result.messages.map((m) => m.id);
    // Each row's own due time (quiet hours may defer some rows of a bulk and not others).
    const due = new Map(prepared.rows.map((r) => [r.id, r.scheduledAt]));
    const delayOf = (id: string) => Math.max(0, (due.get(id)?.getTime() ?? now.getTime()) - now.getTime());
    try {
      if (result.batchId !== null) {
        const byDelay = new Map<number, string[]>();
        for (const id of ids) {
          const d = delayOf(id);
          const group = byDelay.get(d);
          if (group) group.push(id);
          else byDelay.set(d, [id]);
        }
        for (const [delayMs, group] of byDelay) await this.queue.enqueueChunks(group, delayMs, lane);
      } else await this.enqueues.submit(ids.map((id) => ({ id, delayMs: delayOf(id), lane })));
    } catch (e) {
      this.logger.warn({ count: ids.length, err: String(e) }, 'enqueue failed; the sweeper will queue them');
    }
  }

  /** Opted-out recipients are refused: a 400 for a single send, listed as rejected in a bulk. */
  private async excludeOptedOut(
    tenantId: number,
    prepared: Prepared,
    mode: AcceptInput['mode'],
  ): Promise<void> {
    const opted = await this.optOuts.filter(
      tenantId,
      prepared.rows.map((r) => r.phoneNumber),
    );
    if (opted.size === 0) return;
    if (mode === 'single') {
      throw ValidationFailedError.field(
        'phone_number',
        'phone_number has opted out of messages from this tenant',
      );
    }
    const kept = prepared.rows.filter((r) => !opted.has(r.phoneNumber));
    const result = prepared.result;
    result.rejected.push(...[...opted].map((phone_number) => ({ phone_number, reason: 'opted_out' })));
    if (kept.length === 0) {
      throw new ValidationFailedError('no valid phone number', [
        { field: 'phone_numbers', errors: ['no valid phone number'], rejected: result.rejected },
      ]);
    }
    prepared.rows = kept;
    result.messages = kept.map((r) => ({ id: r.id, phoneNumber: r.phoneNumber }));
    const total = sumMicros(kept.map((r) => r.estimatedCost));
    result.estimatedCost = total === null ? null : toAmount(total);
  }

  private async limitFor(p: Principal): Promise<number> {
    const settings = (await this.tenants.ensure(p.tenantId)).settings;
    return isAdmin(p)
      ? (settings.admin_rate_limit ?? this.config.get('SMS_ADMIN_RATE_LIMIT'))
      : (settings.rate_limit ?? this.config.get('SMS_RATE_LIMIT'));
  }

  /** t2 (callbacks): 400 naming status_callback_url unless https to a public address (no DNS here: re-checked at send time). */
  private checkStatusCallbackUrl(url: string | null | undefined): string | null {
    if (url === undefined || url === null) return null;
    const problem = urlProblem(url, this.config.get('WEBHOOK_ALLOW_INSECURE'));
    if (problem) throw ValidationFailedError.field('status_callback_url', `status_callback_url ${problem}`);
    return url;
  }

  /** Pure validation and shaping: throws a 400 before anything is stored or counted. */
  private prepare(input: AcceptInput, now: Date): Prepared {
    checkMetadata(input.metadata);
    const text = analyzeText(input.body);
    const maxSegments = this.config.get('SMS_MAX_SEGMENTS');
    if (input.body.trim() === '') throw ValidationFailedError.field('message', 'message must not be empty');
    if (text.segments > maxSegments) {
      throw ValidationFailedError.field(
        'message',
        `message is ${text.segments} segments (${text.encoding}); the limit is SMS_MAX_SEGMENTS=${maxSegments}`,
      );
    }
    const statusCallbackUrl = this.checkStatusCallbackUrl(input.statusCallbackUrl); // t2 (callbacks)
    const scheduledAt = input.scheduledAt ?? null;
    if (scheduledAt) {
      if (scheduledAt.getTime() <= now.getTime()) {
        throw ValidationFailedError.field('scheduled_time', 'scheduled_time must be in the future');
      }
      if (scheduledAt.getTime() - now.getTime() > MAX_SCHEDULE_AHEAD_MS) {
        throw ValidationFailedError.field('scheduled_time', 'scheduled_time must be within 35 days');
      }
    }
    const seen = new Set<string>();
    const accepted: { phoneNumber: string; country: string | null }[] = [];
    const rejected: { phone_number: string; reason: string }[] = [];
    for (const raw of input.recipients) {
      const v = this.phone.forSend(raw, input.countryCode);
      if (!v.valid) {
        if (input.mode === 'single')
          throw ValidationFailedError.field('phone_number', `phone_number is not valid (${v.reason})`);
        rejected.push({ phone_number: raw, reason: v.reason });
        continue;
      }
      if (seen.has(v.e164)) continue; // duplicates after normalisation are sent once
      seen.add(v.e164);
      accepted.push({ phoneNumber: v.e164, country: v.country });
    }
    if (accepted.length === 0) {
      throw new ValidationFailedError('no valid phone number', [
        { field: 'phone_numbers', errors: ['no valid phone number'], rejected },
      ]);
    }
    const secrets = input.secrets ?? [];
    const storedBody = secrets.length ? redact(input.body, secrets) : input.body;
    const bodyCiphertext = secrets.length ? this.crypto.encrypt(input.body) : null;
    const provider = this.router.primary();
    const status = scheduledAt ? 'scheduled' : 'queued';
    const batchId = input.mode === 'bulk' ? randomUUID() : null;
    const metadata = input.metadata ?? {};
    // A bulk's metadata is the same for every message: kept once, on the batch.
    const batchMetadata = batchId !== null && Object.keys(metadata).length > 0 ? metadata : null;
    const currency = this.config.get('SMS_CURRENCY');
    let total: number | null = 0;
    const rows = accepted.map((a) => {
      const micros = this.pricing.estimate(provider, a.country, text.segments);
      total = total === null || micros === null ? null : total + micros;
      return {
        id: randomUUID(),
        userId: input.userId ?? null,
        phoneNumber: a.phoneNumber,
        body: storedBody,
        bodyCiphertext,
        messageType: input.messageType,
        language: input.language,
        templateId: input.templateId ?? null,
        status,
        segments: text.segments,
        encoding: text.encoding,
        estimatedCost: micros,
        currency,
        scheduledAt,
        batchId,
        campaignId: input.campaignId ?? null,
        statusCallbackUrl, // t2 (callbacks)
        metadata: batchMetadata ? {} : metadata,
        country: a.country, // DestinationPolicy.screen reads it (no second parse); not a column
      } as const;
    });
    return {
      rows,
      batchMetadata,
      result: {
        batchId,
        messages: rows.map((r) => ({ id: r.id, phoneNumber: r.phoneNumber })),
        rejected,
        status,
        segments: text.segments,
        encoding: text.encoding,
        estimatedCost: total === null ? null : toAmount(total),
        currency,
        scheduledAt,
        templateId: input.templateId ?? null,
        language: input.language,
        acceptedAt: now,
      },
    };
  }
}
