import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { isAdmin, Principal } from '../../auth/principal';
import { Batcher } from '../../common/batcher';
import { Clock } from '../../common/clock';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { PhoneService } from '../../phone';
import { SmsRouter } from '../../providers';
import { TenantsService } from '../../tenancy';
import { BodyCrypto, redact } from './body-crypto';
import { DeliveryQueue } from '../delivery/delivery-queue';
import { analyzeText } from '../../core/encoding';
import { IdempotencyService } from '../policies/idempotency.service';
import { Language, MessageStatus, MessageType } from '../../core/message-types';
import { SmsMessageEntity, SmsMessageEventEntity } from '../message.entity';
import { HistoryFilter, MessagesRepository, NewMessage } from '../repositories/messages.repository';
import { OptOutsService } from '../policies/opt-outs.service';
import { PricingService } from '../policies/pricing.service';
import { DestinationPolicy } from '../policies/destination-policy';
import { RateLimiterService, RateLimitState } from '../policies/rate-limiter.service';

/** How far ahead a message may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 35 * 24 * 3600 * 1000;

export interface AcceptInput {
  /** As the caller wrote them; normalised to E.164 here. */
  recipients: string[];
  /** The full text to send. */
  body: string;
  /** Substrings (verification codes) stored and shown as ******; the clear body is kept encrypted until sent. */
  secrets?: string[];
  messageType: MessageType;
  language: Language;
  templateId?: string | null;
  userId?: string | null;
  metadata?: Record<string, unknown>;
  scheduledAt?: Date | null;
  campaignId?: string | null;
  countryCode?: string;
  /** single: an invalid number is a 400; bulk: invalid numbers are listed and skipped. */
  mode: 'single' | 'bulk';
}

export interface AcceptedMessage {
  id: string;
  phoneNumber: string;
}

export interface AcceptResult {
  batchId: string | null;
  messages: AcceptedMessage[];
  rejected: { phone_number: string; reason: string }[];
  status: Extract<MessageStatus, 'queued' | 'scheduled'>;
  segments: number;
  encoding: string;
  /** Per message (single) or summed (bulk). */
  estimatedCost: number | null;
  currency: string;
  scheduledAt: Date | null;
}

/** Rows ready to insert (tenant, creator and key are added at insert time) and the result to present. */
interface Prepared {
  rows: Omit<NewMessage, 'tenantId' | 'createdBy' | 'idempotencyKey' | 'createdAt'>[];
  result: AcceptResult;
}

export interface SendContext {
  principal: Principal;
  /** Idempotency-Key header, if any. */
  idempotencyKey?: string;
  /** Route and body that the key is bound to. */
  route: string;
  requestBody: unknown;
}

export interface Accepted<B> {
  body: B;
  replayed: boolean;
  rateLimit: RateLimitState | null;
}

@Injectable()
export class MessagingService {
  private readonly logger = new Logger(MessagingService.name);
  /** Rows of concurrent requests, written by one statement. */
  private readonly inserts = new Batcher<NewMessage[], void>(async (groups) => {
    await this.messages.insertMany(this.ds.manager, groups.flat(), 'api');
    return groups.map(() => undefined);
  }, 200);
  /** Jobs of concurrent requests, added by one addBulk. */
  private readonly enqueues = new Batcher<{ id: string; delayMs: number }[], void>(async (groups) => {
    await this.queue.enqueue(groups.flat());
    return groups.map(() => undefined);
  }, 200);

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
  ) {}

  /**
   * Accepts messages: validate, replay an idempotent request, take the rate limit, write every
   * row (and the idempotency record) in one transaction, then queue delivery after commit.
   * `present` shapes the response body that an idempotent replay returns again.
   */
  async accept<B>(
    ctx: SendContext,
    input: AcceptInput,
    present: (r: AcceptResult) => B,
  ): Promise<Accepted<B>> {
    const now = this.clock.now();
    const prepared = this.prepare(input, now);
    const { tenantId, userId } = ctx.principal;
    const key = ctx.idempotencyKey;
    const hash = key ? this.idempotency.hash(ctx.route, ctx.requestBody) : '';
    if (key) {
      const stored = await this.idempotency.find<B>(tenantId, key, hash);
      if (stored) return { body: stored.body, replayed: true, rateLimit: null };
    }
    await this.destinations.screen(tenantId, input.mode, prepared); // s3: countries, premium-rate, shared-cost
    const codes = this.destinations.codeAllowance(tenantId, input.messageType, now); // s3: code limits
    await this.excludeOptedOut(tenantId, prepared, input.mode);
    const count = prepared.rows.length;
    const rateLimit = await this.rateLimiter.consume(
      tenantId,
      userId,
      count,
      await this.limitFor(ctx.principal),
      now,
    );
    let replay: B | null = null;
    let body: B | null = null;
    try {
      await codes.take(prepared.rows); // s3: a 429 here refunds the recipient quota below
      const rows: NewMessage[] = prepared.rows.map((r) => ({
        ...r,
        tenantId,
        createdBy: userId,
        idempotencyKey: key ?? null,
        createdAt: now,
      }));
      if (!key) {
        // Concurrent requests share one INSERT statement (atomic on its own): group commit.
        await this.inserts.submit(rows);
        body = present(prepared.result);
      } else {
        await this.ds.transaction(async (manager) => {
          const held = await this.idempotency.claim<B>(manager, tenantId, key, hash);
          if (held) {
            replay = held.body;
            return;
          }
          await this.messages.insertMany(manager, rows, 'api');
          body = present(prepared.result);
          await this.idempotency.complete(manager, tenantId, key, { statusCode: 202, body });
        });
      }
    } catch (e) {
      await this.rateLimiter.refund(tenantId, userId, count, now).catch(() => undefined);
      await codes.refund(); // s3
      throw e;
    }
    if (replay !== null) {
      await this.rateLimiter.refund(tenantId, userId, count, now).catch(() => undefined);
      await codes.refund(); // s3
      return { body: replay, replayed: true, rateLimit: null };
    }
    await this.enqueueAfterCommit(prepared.result, now);
    return { body: body as unknown as B, replayed: false, rateLimit };
  }

  /**
   * Adds the jobs after commit: a bulk as chunk jobs (100 messages each, so 10,000 numbers are 100
   * jobs), a single message through the batcher that shares one addBulk between concurrent
   * requests. A failure here loses nothing: the rows are committed and the sweeper queues them.
   */
  private async enqueueAfterCommit(result: AcceptResult, now: Date): Promise<void> {
    const delayMs = result.scheduledAt ? result.scheduledAt.getTime() - now.getTime() : 0;
    const ids = result.messages.map((m) => m.id);
    try {
      if (result.batchId !== null) await this.queue.enqueueChunks(ids, delayMs);
      else await this.enqueues.submit(ids.map((id) => ({ id, delayMs })));
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
    const costs = kept.map((r) => r.estimatedCost);
    result.estimatedCost = costs.some((c) => c === null)
      ? null
      : Math.round(costs.reduce((a: number, c) => a + (c as number), 0) * 1e6) / 1e6;
  }

  private async limitFor(p: Principal): Promise<number> {
    const settings = (await this.tenants.ensure(p.tenantId)).settings;
    return isAdmin(p)
      ? (settings.admin_rate_limit ?? this.config.get('SMS_ADMIN_RATE_LIMIT'))
      : (settings.rate_limit ?? this.config.get('SMS_RATE_LIMIT'));
  }

  /** Pure validation and shaping: throws a 400 before anything is stored or counted. */
  private prepare(input: AcceptInput, now: Date): Prepared {
    const text = analyzeText(input.body);
    const maxSegments = this.config.get('SMS_MAX_SEGMENTS');
    if (input.body.trim() === '') throw ValidationFailedError.field('message', 'message must not be empty');
    if (text.segments > maxSegments) {
      throw ValidationFailedError.field(
        'message',
        `message is ${text.segments} segments (${text.encoding}); the limit is SMS_MAX_SEGMENTS=${maxSegments}`,
      );
    }
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
    const currency = this.config.get('SMS_CURRENCY');
    let total: number | null = 0;
    const rows = accepted.map((a) => {
      const estimatedCost = this.pricing.estimate(provider, a.country, text.segments);
      total = total === null || estimatedCost === null ? null : total + estimatedCost;
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
        estimatedCost,
        currency,
        scheduledAt,
        batchId,
        campaignId: input.campaignId ?? null,
        metadata: input.metadata ?? {},
        country: a.country, // s3: DestinationPolicy.screen reads it (no second parse); not a column
      } as const;
    });
    return {
      rows,
      result: {
        batchId,
        messages: rows.map((r) => ({ id: r.id, phoneNumber: r.phoneNumber })),
        rejected,
        status,
        segments: text.segments,
        encoding: text.encoding,
        estimatedCost: total === null ? null : Math.round(total * 1e6) / 1e6,
        currency,
        scheduledAt,
      },
    };
  }

  /** A message of the caller's tenant (non-admins: only their own), else 404. */
  async get(
    p: Principal,
    id: string,
  ): Promise<{ message: SmsMessageEntity; events: SmsMessageEventEntity[] }> {
    const message = await this.messages.findOne(p.tenantId, id);
    if (!message || (!isAdmin(p) && message.createdBy !== p.userId))
      throw new NotFoundError(`message ${id} not found`);
    return { message, events: await this.messages.events(p.tenantId, id) };
  }

  history(p: Principal, filter: HistoryFilter): Promise<SmsMessageEntity[]> {
    return this.messages.history(p.tenantId, isAdmin(p) ? filter : { ...filter, createdBy: p.userId });
  }

  /** Cancels a scheduled or still-queued message; one a provider may have seen is a 409. */
  async cancel(p: Principal, id: string): Promise<void> {
    await this.get(p, id);
    const { canceled, status } = await this.messages.cancel(p.tenantId, id, `user:${p.userId}`);
    if (status === null) throw new NotFoundError(`message ${id} not found`);
    if (!canceled)
      throw new ConflictError(`message ${id} is ${status} and can no longer be canceled`, { status });
    await this.queue.remove(id).catch(() => undefined);
  }
}
