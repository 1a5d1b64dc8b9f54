import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RateLimitExceededError, ServiceUnavailableError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { CODE_MESSAGE_TYPES } from '../../core/message-types';
import { uuidv7Bound } from '../../core/uuid7';
import { RedisService } from '../../redis/redis.module';
import { CodeWindow, codeRefusal, DestinationPolicy, TakenWindow, takenWindow } from './destination-policy';
import {
  RateLimiterService,
  RateLimitState,
  RECIPIENT_WINDOW_MINUTES,
  recipientRefusal,
  recipientState,
} from './rate-limiter.service';

/** After a stand-in, codes count on the ledger without asking Redis for this long (see countsHere). */
export const STAND_IN_MS = 2_000;
/** Counts waiting to be added to Redis once it answers (the oldest are dropped past this). */
const MAX_PENDING = 10_000;
const REPLAY_EVERY_MS = 1_000;

/** The code messages, as the partial index `sms_messages_code_numbers` names them. */
const CODE_TYPES_SQL = CODE_MESSAGE_TYPES.map((t) => `'${t}'`).join(', ');

/** What a send asks of the limits, and whose allowance it spends. */
export interface LedgerSend {
  tenantId: number;
  userId: string;
  /** The user's recipients per hour (SMS_RATE_LIMIT, or the tenant's or an admin's). */
  userLimit: number;
  recipients: readonly { phoneNumber: string }[];
  now: Date;
}

/**
 * The limits of a code counted from the ledger, while Redis cannot count them: a Redis Cluster
 * slot whose master is gone and whose replica is not yet promoted (about 5–10 s). Before this a
 * code then got 503 and its user waited out the failover; now it is accepted as on any other
 * second, and the limits still hold.
 *
 * - Only codes (password_reset, 2fa_code), and only on a cluster whose other masters serve: the
 *   code is then queued on another shard's code queue (DeliveryQueue.addCodes) and sent at once.
 *   On one Redis that is down nothing could queue it (the sweeper would, a minute or more later),
 *   so a code is refused with 503 and its client's retry is the quicker path. Other messages keep
 *   the 503 too: none of them is waited for by a person at a login screen.
 * - The same windows as in Redis (DestinationPolicy.codeWindows, the user's hourly recipients), the
 *   same refusals (codeRefusal, recipientRefusal). Each window counts the ledger's rows of its
 *   span: a number's code messages, a range's (`sms_messages_code_numbers`), the user's messages
 *   but campaigns' (`sms_messages_tenant_creator`).
 * - Exact under concurrency: the transaction that inserts the rows first takes an advisory lock
 *   per window range (the user, each number range), in one order, counts, then inserts; a second
 *   stand-in for the same range counts the first's rows.
 * - What Redis missed: the counts taken here are added to Redis's windows once it answers
 *   (`replay`, each window until it ends), so a code sent in the failover still counts after it.
 *   Two limits this leaves: an api process that still reaches Redis meanwhile counts there and
 *   does not see the ledger's stand-ins (for at most the failover); and counts kept for replay
 *   are lost with the process.
 */
@Injectable()
export class LedgerLimits implements OnApplicationShutdown {
  private readonly logger = new Logger(LedgerLimits.name);
  private standingInUntil = 0;
  /** Each with its own hash field, `<minute>:<replay id>`: a replay that lands twice counts once. */
  private pending: (TakenWindow & { field: string })[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisService,
    private readonly destinations: DestinationPolicy,
    private readonly rateLimiter: RateLimiterService,
    private readonly config: AppConfig,
  ) {}

  /** Codes count on the ledger now (a stand-in, or another code asking Redis again meanwhile). */
  standingIn(now = Date.now()): boolean {
    return now < this.standingInUntil;
  }

  /**
   * Whether this code counts on the ledger. For STAND_IN_MS after a stand-in every code does; then
   * one code asks Redis again while the others still count here, until it is answered (each ask of
   * a slot still failing over costs the asker the bound, so one pays it, not every code meanwhile).
   */
  countsHere(now = Date.now()): boolean {
    if (this.standingInUntil === 0) return false;
    if (now < this.standingInUntil) return true;
    this.standingInUntil = now + 2 * this.config.get('REDIS_COMMAND_TIMEOUT_MS');
    return false;
  }

  /** A code's limits were counted in Redis: codes ask Redis again. */
  redisAnswered(): void {
    this.standingInUntil = 0;
  }

  /**
   * Whether the ledger counts instead, after this failure of Redis's count: a Redis Cluster that
   * serves but for a slot (the failure a bound on one command, the client up). Begins the
   * STAND_IN_MS during which codes do not ask Redis. A 429 is Redis's answer: codes ask it again.
   */
  standsInFor(e: unknown): boolean {
    if (e instanceof RateLimitExceededError) this.redisAnswered();
    if (!(e instanceof ServiceUnavailableError) || e.dependency !== 'redis') return false;
    if (!this.redis.clustered || !this.redis.isUp()) return false;
    if (!this.standingIn()) this.logger.warn('Redis cannot count code limits: the ledger counts them');
    this.standingInUntil = Date.now() + STAND_IN_MS;
    return true;
  }

  /**
   * In the transaction that inserts the send's rows, before the insert: locks the send's window
   * ranges, counts each window in the ledger, and throws the 429 of the first with no room (the
   * user's, then the codes', as in Redis). The user's window state, and what to replay to Redis.
   */
  async take(m: EntityManager, send: LedgerSend): Promise<{ state: RateLimitState; taken: TakenWindow[] }> {
    const { tenantId, userId, userLimit, recipients, now } = send;
    const windows = this.destinations.codeWindows(tenantId, recipients);
    const ranges = [
      `limits:${tenantId}:user:${userId}`,
      ...windows.flatMap((w) => ('prefix' in w.match ? [`limits:${tenantId}:range:${w.match.prefix}`] : [])),
    ].sort();
    await m.query(
      `SELECT ${ranges.map((_, i) => `pg_advisory_xact_lock(hashtextextended($${i + 1}, 0))`).join(', ')}`,
      ranges,
    );
    const minute = Math.floor(now.getTime() / 60_000);
    const user = {
      key: this.rateLimiter.key(tenantId, userId),
      count: recipients.length,
      minutes: RECIPIENT_WINDOW_MINUTES,
    };
    const counted = await this.count(m, tenantId, userId, minute, windows);
    const [userUsed, userOldest] = counted[0];
    if (userUsed + user.count > userLimit)
      throw recipientRefusal(userLimit, userUsed, user.count, userOldest, now);
    windows.forEach((w, i) => {
      const [used, oldest] = counted[i + 1];
      if (used + w.count > w.limit) throw codeRefusal(w, used, oldest, now);
    });
    return {
      state: recipientState(userLimit, userUsed + user.count, userOldest),
      taken: [user, ...windows].map((w) => takenWindow(w, minute)),
    };
  }

  /**
   * Each window's rows in the ledger, in one statement: [used, oldest minute] for the user's
   * window, then for each code window in order. A window's span is its minutes up to this one,
   * as Redis's one-minute buckets; `id >=` the span's first UUIDv7 prunes the ledger's months.
   */
  private async count(
    m: EntityManager,
    tenantId: number,
    userId: string,
    minute: number,
    windows: readonly CodeWindow[],
  ): Promise<[number, number][]> {
    const params: unknown[] = [tenantId];
    const param = (v: unknown) => `$${params.push(v)}`;
    const span = (minutes: number) => {
      const since = new Date((minute - minutes + 1) * 60_000);
      // The id's time is the accept's, a moment before created_at: a minute's slack.
      return `created_at >= ${param(since)} AND id >= ${param(uuidv7Bound(new Date(since.getTime() - 60_000)))}`;
    };
    const branch = (i: number, where: string) =>
      `SELECT ${i} AS i, count(*)::int AS used, min(created_at) AS oldest FROM sms_messages WHERE tenant_id = $1 AND ${where}`;
    const branches = [
      branch(
        0,
        `created_by = ${param(userId)} AND campaign_id IS NULL AND ${span(RECIPIENT_WINDOW_MINUTES)}`,
      ),
      ...windows.map((w, i) => {
        const rows =
          'number' in w.match
            ? `phone_number = ${param(w.match.number)}`
            : `phone_number ~>=~ ${param(w.match.prefix)} AND phone_number ~<~ ${param(`${w.match.prefix}~`)}`;
        return branch(i + 1, `message_type IN (${CODE_TYPES_SQL}) AND ${rows} AND ${span(w.minutes)}`);
      }),
    ];
    const found = (await m.query(branches.join(' UNION ALL '), params)) as {
      i: number;
      used: number;
      oldest: Date | null;
    }[];
    const out: [number, number][] = branches.map(() => [0, minute]);
    for (const r of found)
      out[r.i] = [r.used, r.oldest ? Math.floor(new Date(r.oldest).getTime() / 60_000) : minute];
    return out;
  }

  /** After the commit: the counts the ledger took, to add to Redis's windows once it answers. */
  replay(taken: readonly TakenWindow[]): void {
    for (const t of taken) this.pending.push({ ...t, field: `${t.minute}:${randomUUID()}` });
    this.schedule();
  }

  private schedule(): void {
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
    this.timer ??= setTimeout(() => void this.flush(), REPLAY_EVERY_MS).unref();
  }

  /**
   * Adds what is pending to Redis (each still in its window, as a hash field of its own: HSET, so
   * an add that lands after it was given up on and is tried again counts once); what fails waits
   * for the next try.
   */
  async flush(now = Date.now()): Promise<void> {
    this.timer = undefined;
    // Not while codes stand in: the slot has just failed, and each add would wait out the bound.
    if (this.standingIn(now)) return this.schedule();
    const minuteNow = Math.floor(now / 60_000);
    const due = this.pending.filter((t) => t.minute > minuteNow - t.minutes);
    this.pending = [];
    const failed: typeof due = [];
    await Promise.all(
      due.map((t) =>
        this.redis
          .inTime(
            this.redis.client
              .multi()
              .hset(t.key, t.field, t.count)
              .expire(t.key, t.minutes * 60 + 120)
              .exec(),
          )
          .catch(() => failed.push(t)),
      ),
    );
    if (failed.length > 0) {
      this.pending.push(...failed);
      this.schedule();
    }
  }

  /** Counts still waiting for Redis (tests, and the log at shutdown). */
  waiting(): number {
    return this.pending.length;
  }

  onApplicationShutdown(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.pending.length > 0)
      this.logger.warn(
        { count: this.pending.length },
        'code limit counts not added to Redis before shutdown',
      );
  }
}
