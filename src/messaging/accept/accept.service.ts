import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { isAdmin, Principal } from '../../auth/principal';
import { Batcher } from '../../common/batcher';
import { Clock } from '../../common/clock';
import { Semaphore } from '../../common/semaphore';
import { ValidationFailedError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import {
  campaignMessageId,
  CODE_MESSAGE_TYPES,
  isQuietHours,
  MessageType,
  Micros,
  quietUntil,
  recipientZone,
  resolveValiditySeconds,
  senderFor,
  smartEncode,
  SmartEncodingMode,
  smartEncodingMode,
  sumMicros,
  toAmount,
  uuidv7,
  validityEnd,
  validityProblem,
} from '../../core';
import { PhoneService } from '../../phone';
import { isTestNumber, SmsRouter } from '../../providers';
import { TenantSettings, TenantsService } from '../../tenancy';
import { CallbackUrlGuard } from '../../callbacks';
import { DeliveryQueue, Lane, laneOf } from '../delivery/delivery-queue';
import { IdempotencyInFlightError, IdempotencyService, KeyOwner } from '../policies/idempotency.service';
import { ConsentService } from '../policies/consent.service';
import { OptOutsService } from '../policies/opt-outs.service';
import { PricingService } from '../policies/pricing.service';
import { DestinationPolicy } from '../policies/destination-policy';
import { isCodeType } from '../policies/destination-rules';
import { RateLimiterService, RateLimitState } from '../policies/rate-limiter.service';
import { SPEND_CAP_SKIP, SpendCapPolicy, SpendRoom } from '../policies/spend-cap.policy';
import { LedgerLimits } from '../policies/ledger-limits';
import { MessagesRepository, NewBatch, NewMessage } from '../repositories/messages.repository';
import {
  Accepted,
  AcceptInput,
  AcceptResult,
  BindParam,
  ChannelInput,
  fromStoredResult,
  MAX_SCHEDULE_AHEAD_MS,
  PlannedInput,
  PlannedOutcome,
  PlannedPreview,
  SendContext,
  toStoredResult,
} from './accept.types';
import { BodyCrypto, redact } from './body-crypto';
import { commitGroups, isPostgresDataError } from './group-commit';
import { checkMetadata } from './metadata';
import { LinkTracker } from '../links/link-tracker';
// channels (issue 25)
import { ChannelPolicy, ChannelSpec, SMS_SPEC } from '../channels/channel-policy';
import type { FallbackSource } from '../channels/fallbacks.service';
import type { Channel } from '../../core/channels';

/** A message ready for the policies; the fields after the columns are not stored. */
type Row = Omit<NewMessage, 'tenantId' | 'createdBy' | 'idempotencyKey' | 'createdAt'> & {
  /** The number's country (null: non-geographic), for the destination and quiet-hours rules; stored too. */
  country: string | null;
  /** The recipient's own time zone (a campaign's directory entry), for quiet hours. */
  timezone: string | null;
  /** A campaign's recipient: the row's recipient_user_id. */
  recipientUserId: string | null;
  /** A campaign page's own reason not to send it (its text did not render), applied after the policies. */
  unsendable: string | null;
};

/**
 * Messages on their way through the policies. `single`: a refusal is the request's 400; `bulk`:
 * refused recipients are listed and the rest go on (a 400 only when none remains); `planned` (a
 * campaign page): refused recipients are listed, never an error.
 */
interface Batch {
  tenantId: number;
  mode: 'single' | 'bulk' | 'planned';
  /** Send or bulk: the lane its jobs take. */
  lane: Lane;
  /** Quiet hours apply: promotional messages, and campaigns of templates not transactional. */
  quiet: boolean;
  rows: Row[];
  /** Refused so far, in the order the policies refused them. */
  refused: { phoneNumber: string; recipientUserId: string | null; reason: string }[];
  /** Test mode (applyTestMode): the sandbox only, priced 0, outside the spend cap. */
  testMode?: boolean;
  /** The channel and its fields (issue 25); absent: sms. */
  channel?: ChannelSpec;
}

/** A send or a bulk: its batch, the bulk's shared metadata (stored once), and the result it presents. */
interface Prepared {
  batch: Batch;
  batchMetadata: Record<string, unknown> | null;
  result: AcceptResult;
}

/** What one request writes: its messages and, for a bulk with metadata, its batch row. */
interface Write {
  messages: NewMessage[];
  batch: NewBatch | null;
}

/**
 * A write committed in a transaction of its batch (commitTransactional): a capped tenant's (its cap,
 * from the accept's read of the settings, and its estimate) or one with an Idempotency-Key (the
 * result to store under the key, if the claim is still this request's), or both.
 */
interface TransactionalWrite {
  write: Write;
  cap: Micros | null;
  estimate: Micros;
  key: { owner: KeyOwner; key: string; claimId: string; stored: unknown } | null;
}

/**
 * The one accept path. Every way a message is accepted — send, bulk, schedule, templated, codes,
 * reminders (these through `accept`) and campaign pages (`acceptPlanned`) — passes the same
 * policies, in this order: destinations (allowed countries, premium rate), opt-outs, quiet hours
 * (promotional messages), pricing, the spend cap, limits (a request's rate limit; a code's number
 * and range limits), then the rows in one commit and their jobs after it. A refusal stores
 * nothing and gives back what it took. HTTP controllers and the SDK present the domain result.
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
  /**
   * Writes that need a transaction, group committed too (commitTransactional): a capped tenant's,
   * per tenant, one batch in flight each, under its spend-cap lock (the room read once, each write
   * taking its share in arrival order); those with an Idempotency-Key, their results stored in one
   * statement. Before, each took a transaction of its own and held a pool connection through it,
   * and while waiting for the tenant's lock: 50 concurrent sends of one capped tenant did ~130
   * req/s, 50 with keys ~280, and every other tenant's sends waited behind them (p50 28 → 110–380
   * ms; docs/BENCHMARKS.md, "A capped tenant"). Keyed batches: two in flight; with four, bursts
   * split into small transactions of four round trips each (docs/BENCHMARKS.md, "Keyed sends").
   */
  private readonly cappedInserts = new Map<number, Batcher<TransactionalWrite, unknown>>();
  private readonly keyedInserts = new Batcher<TransactionalWrite, unknown>(
    (ws) => this.commitTransactional(null, ws),
    200,
    2,
  );
  /**
   * A capped tenant's other accepts (a code with its companion write, a code counted on the ledger)
   * keep a transaction each; they take turns per tenant in this process before they take a
   * connection.
   */
  private readonly cappedTurns = new Map<number, Semaphore>();
  /** Jobs of concurrent requests, added by one addBulk. */
  private readonly enqueues = new Batcher<
    { id: string; tenantId: number; delayMs: number; lane: Lane }[],
    void
  >(async (groups) => {
    await this.queue.enqueue(groups.flat());
    return groups.map(() => undefined);
  }, 200);

  /** Jobs being added for committed rows; never rejects (enqueueAfterCommit logs its failure). */
  private readonly enqueuing = new Set<Promise<void>>();

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
    private readonly spendCap: SpendCapPolicy,
    private readonly callbackUrls: CallbackUrlGuard,
    private readonly consent: ConsentService,
    private readonly links: LinkTracker,
    private readonly channels: ChannelPolicy,
    private readonly ledgerLimits: LedgerLimits,
  ) {}

  /** Before Redis closes: the jobs of what was accepted go out (else the sweeper queues them later). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.enqueuing]);
  }

  async accept(ctx: SendContext, input: AcceptInput): Promise<Accepted> {
    const now = this.clock.now();
    // One read of the tenant's settings for the whole accept: every policy below sees the same.
    const settings = (await this.tenants.ensure(ctx.principal.tenantId)).settings;
    // The numbers are checked in slices, between turns of the event loop (a bulk's are many).
    const checked = await this.phone.forSendAll(input.recipients, input.countryCode);
    const prepared = this.prepare(
      ctx.principal.tenantId,
      input,
      checked,
      now,
      this.smartEncodingOf(settings, input),
      this.links.appliesTo(settings, input),
    );
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
    let rateLimit: RateLimitState;
    try {
      // Only when given: where its host resolves (bounded). After the claim: a replay skips it.
      if (input.statusCallbackUrl)
        await this.callbackUrls.check('status_callback_url', input.statusCallbackUrl);
      await this.channels.checkMediaHosts(prepared.batch.channel ?? SMS_SPEC); // channels: like callbacks
      this.applyTestMode(prepared.batch, ctx.principal.testMode === true, settings);
      await this.screen(prepared.batch, now, settings);
      await this.links.settle(prepared.batch.rows);
      this.present(prepared);
      rateLimit = await this.write(ctx.principal, settings, prepared, input, now, key ?? null, claimId);
    } catch (e) {
      if (key && claimId) await this.idempotency.release(owner, key, claimId).catch(() => undefined);
      throw e;
    }
    // The rows are committed: the answer does not wait for Redis to take their jobs (a lost
    // enqueue loses nothing, the sweeper queues the rows); shutdown does (beforeApplicationShutdown).
    const enqueued = this.enqueueAfterCommit(prepared, now);
    this.enqueuing.add(enqueued);
    void enqueued.finally(() => this.enqueuing.delete(enqueued));
    return { result: prepared.result, replayed: false, rateLimit };
  }

  /**
   * A campaign page: messages already rendered per recipient pass the same policies as a bulk,
   * refused recipients are listed by reason, and the rest are inserted in one transaction with
   * what the caller writes (`before` may stop the page: null is returned and nothing is written;
   * `after` writes the caller's rows, e.g. skips and a cursor). Past the tenant's spend cap the
   * page takes what fits and skips the rest (`spend_cap_reached`). After commit the page's waiting
   * messages go to the campaign queue. A message of this campaign for the same recipient is never
   * inserted twice (a retried page).
   */
  async acceptPlanned(
    input: PlannedInput,
    hooks: {
      before: (m: EntityManager) => Promise<boolean>;
      after: (m: EntityManager, outcome: PlannedOutcome) => Promise<void>;
    },
  ): Promise<PlannedOutcome | null> {
    const now = this.clock.now();
    const settings = (await this.tenants.ensure(input.tenantId)).settings;
    const batch = this.preparePlanned(
      input,
      now,
      this.smartEncodingOf(settings, input),
      this.links.appliesTo(settings, input),
    );
    await this.channels.checkMediaHosts(batch.channel ?? SMS_SPEC); // channels: like callbacks
    this.applyTestMode(batch, false, settings);
    await this.screenPlanned(batch, now, settings);
    await this.links.settle(batch.rows);
    const outcome = await this.ds.transaction(async (m) => {
      if (!(await hooks.before(m))) return null;
      const cap = batch.testMode ? null : this.spendCap.capOf(settings);
      if (cap !== null) this.takeWhatFits(batch, await this.spendCap.lockedRoom(m, input.tenantId, cap));
      await this.messages.insertCampaignChunk(
        m,
        batch.rows.map((r) => ({
          ...this.stored(r, input.tenantId, input.createdBy, null, now),
          recipientUserId: r.recipientUserId as string,
        })),
      );
      // This page's waiting messages: the new ones, and any an earlier attempt of it inserted.
      const waiting = await this.messages.campaignWaiting(
        m,
        input.tenantId,
        input.campaignId,
        input.messages.map((p) => p.recipientUserId),
      );
      const result: PlannedOutcome = {
        accepted: waiting,
        rejected: batch.refused.map((r) => ({
          recipientUserId: r.recipientUserId as string,
          reason: r.reason,
        })),
      };
      await hooks.after(m, result);
      return result;
    });
    if (outcome === null) return null;
    await this.enqueueCampaign(input, outcome, now);
    return outcome;
  }

  /**
   * What `acceptPlanned` would do with these messages now, storing nothing and taking nothing: the
   * campaign preview. The spend cap is read without its lock (a concurrent send may take room).
   */
  async previewPlanned(input: PlannedInput): Promise<PlannedPreview> {
    const now = this.clock.now();
    const settings = (await this.tenants.ensure(input.tenantId)).settings;
    const batch = this.preparePlanned(
      input,
      now,
      this.smartEncodingOf(settings, input),
      this.links.appliesTo(settings, input),
    );
    this.applyTestMode(batch, false, settings);
    await this.screenPlanned(batch, now, settings);
    const cap = batch.testMode ? null : this.spendCap.capOf(settings);
    if (cap !== null) {
      this.takeWhatFits(batch, await this.spendCap.room(input.tenantId, cap));
    }
    return {
      accepted: batch.rows.map((r) => ({
        recipientUserId: r.recipientUserId as string,
        phoneNumber: r.phoneNumber,
        country: r.country,
        language: r.language,
        text: r.body,
        segments: r.segments,
        encoding: r.encoding as 'GSM-7' | 'UCS-2',
        estimatedCost: r.estimatedCost,
        deferredUntil: r.status === 'scheduled' ? r.scheduledAt : null,
      })),
      rejected: batch.refused.map((r) => ({
        recipientUserId: r.recipientUserId as string,
        reason: r.reason,
      })),
      currency: this.config.get('SMS_CURRENCY'),
    };
  }

  // --- channels (issue 25) ---------------------------------------------------------------------
  /** A campaign's channel fields, checked when it is created (400 naming the field; media hosts resolved). */
  async checkChannel(input: ChannelInput & { messageType?: MessageType }): Promise<void> {
    await this.channels.checkMediaHosts(this.channels.spec(input));
  }

  /* The WhatsApp → SMS fallback. */
  /**
   * A WhatsApp message's SMS fallback (docs/sending.md#channels), through the same policies as any
   * send (destinations, opt-outs, consent, quiet hours, sender, pricing, the spend cap; not the
   * per-user rate limit: no user asked for it now). Exactly once: the original's `fallback_reason`
   * is set by a conditional UPDATE (`WHERE fallback_reason IS NULL`) in the transaction that
   * inserts the SMS, so of two workers (or a retry) only one inserts; the other changes nothing.
   * A fallback the policies refuse is recorded as `refused:<reason>` and never tried again.
   * Returns the new SMS's id, or null (refused, or another worker took it).
   */
  async acceptFallback(o: FallbackSource, reason: string): Promise<string | null> {
    const now = this.clock.now();
    const settings = (await this.tenants.ensure(o.tenantId)).settings;
    const smart = smartEncode(o.body, this.smartEncodingOf(settings, { messageType: o.messageType }));
    const text = smart.analysis;
    const lane = laneOf(o.messageType, undefined);
    const row: Row = {
      id: uuidv7(now),
      userId: o.userId,
      phoneNumber: o.phoneNumber,
      body: smart.text,
      bodyCiphertext: null,
      messageType: o.messageType,
      language: o.language,
      templateId: o.templateId,
      status: 'queued',
      segments: text.segments,
      encoding: text.encoding,
      estimatedCost: this.pricing.estimate(this.router.primary(), o.country, text.segments),
      currency: this.config.get('SMS_CURRENCY'),
      scheduledAt: null,
      batchId: null,
      campaignId: o.campaignId,
      statusCallbackUrl: o.statusCallbackUrl,
      expiresAt: o.expiresAt,
      metadata: o.metadata,
      country: o.country,
      timezone: null,
      recipientUserId: null,
      unsendable:
        text.segments > this.config.get('SMS_MAX_SEGMENTS')
          ? 'too_long'
          : o.expiresAt && o.expiresAt <= now
            ? 'validity_expired'
            : null,
      fallbackOf: o.id,
    };
    const batch: Batch = {
      tenantId: o.tenantId,
      mode: 'planned',
      lane,
      quiet: lane === 'promotional',
      rows: [row],
      refused: [],
    };
    this.applyTestMode(batch, o.testMode, settings);
    await this.screen(batch, now, settings);
    this.refuse(
      batch,
      (r) => r.unsendable,
      () => new Error('a fallback refuses no row with an error'),
    );
    const taken = await this.ds.transaction(async (m) => {
      const cap = batch.testMode ? null : this.spendCap.capOf(settings);
      if (cap !== null && batch.rows.length > 0)
        this.takeWhatFits(batch, await this.spendCap.lockedRoom(m, o.tenantId, cap));
      const kept = batch.rows[0] ?? null;
      const outcome = kept ? reason : `refused:${batch.refused[0]?.reason ?? 'unknown'}`.slice(0, 32);
      const claimed: { id: string }[] = await m.query(
        `WITH claimed AS (
           UPDATE sms_messages SET fallback_reason = $2, fallback_message_id = $3
            WHERE id = $1 AND tenant_id = $4 AND fallback_reason IS NULL RETURNING id, status
         ), event AS (
           INSERT INTO sms_message_events (message_id, status, source, payload, at)
           SELECT id, status, 'fallback', jsonb_build_object('fallback', $2::text, 'fallback_message_id', $3::uuid), $5
             FROM claimed
         )
         SELECT id FROM claimed`,
        [o.id, outcome, kept?.id ?? null, o.tenantId, now],
      );
      if (claimed.length === 0 || !kept) return null;
      await this.messages.insertMany(m, [this.stored(kept, o.tenantId, o.createdBy, null, now)], 'fallback');
      return kept;
    });
    if (taken === null) return null;
    try {
      await this.enqueues.submit([
        {
          id: taken.id,
          tenantId: o.tenantId,
          delayMs: Math.max(0, (taken.scheduledAt?.getTime() ?? 0) - now.getTime()),
          lane,
        },
      ]);
    } catch (e) {
      this.logger.warn(
        { messageId: taken.id, err: String(e) },
        'fallback enqueue failed; the sweeper will queue it',
      );
    }
    return taken.id;
  }
  // --- end channels ---

  /**
   * The policies every accept shares, in order: destinations, opt-outs, quiet hours; then each
   * kept row's sender. Pricing was done when the rows were shaped (it needs only the number and
   * the segments).
   */
  private async screen(batch: Batch, now: Date, settings: TenantSettings): Promise<void> {
    const rule = this.destinations.refusals(settings);
    this.refuse(
      batch,
      // A test number in test mode reaches no real provider: no destination rule applies to it.
      (r) => (batch.testMode && isTestNumber(r.phoneNumber) ? null : rule(r.phoneNumber, r.country)),
      (r, reason) => this.destinations.refusalError(reason, r.phoneNumber, r.country),
    );
    const opted = await this.optOuts.filter(batch.tenantId, [
      ...new Set(batch.rows.map((r) => r.phoneNumber)),
    ]);
    if (opted.size > 0)
      this.refuse(
        batch,
        (r) => (opted.has(r.phoneNumber) ? 'opted_out' : null),
        () =>
          ValidationFailedError.field(
            'phone_number',
            'phone_number has opted out of messages from this tenant',
          ),
      );
    if (isPromotional(batch)) await this.screenConsent(batch);
    if (batch.quiet) {
      this.deferQuietHours(batch, now, settings);
      // Held by quiet hours past its validity, it could never go out in time: refused now rather
      // than accepted to expire unsent (docs/sending.md, Validity periods).
      this.refuse(
        batch,
        (r) => (r.expiresAt && r.scheduledAt && r.scheduledAt >= r.expiresAt ? QUIET_PAST_VALIDITY : null),
        (r) =>
          ValidationFailedError.field(
            'validity_seconds',
            `validity_seconds ends at ${r.expiresAt?.toISOString()}, before the recipient's quiet hours end at ${r.scheduledAt?.toISOString()}: the message could not be sent in time`,
          ),
      );
    }
    // Sender identity: the tenant's sender for each destination country (null: the provider's default).
    const senders = settings.senders;
    if (senders) for (const r of batch.rows) r.sender = senderFor(senders, r.country);
    // --- channels (issue 25): MMS destinations; WhatsApp sender and session window (docs/sending.md#channels)
    if (batch.channel && batch.channel.channel !== 'sms') {
      const rule = await this.channels.screen(
        batch.tenantId,
        batch.channel,
        batch.rows,
        now,
        batch.testMode === true,
      );
      this.refuse(batch, rule.reasonOf, rule.error);
    }
  }

  /**
   * Promotional consent (the tenant's `promotional_consent`, by default Turkish numbers only): a
   * number whose SMS consent is not granted is refused `no_consent` (docs/privacy.md).
   */
  private async screenConsent(batch: Batch): Promise<void> {
    const noConsent = await this.consent.refusals(batch.tenantId, batch.rows);
    if (noConsent)
      this.refuse(
        batch,
        (r) => noConsent(r.phoneNumber),
        () =>
          ValidationFailedError.field(
            'phone_number',
            'phone_number has not consented to promotional messages from this tenant (no_consent)',
          ),
      );
  }

  /**
   * A campaign page's screen: the shared policies first (a recipient who opted out is skipped as
   * such whatever its text), then the page's own reasons (a text that did not render) and the
   * length limit (SMS_MAX_SEGMENTS: `too_long`).
   */
  private async screenPlanned(batch: Batch, now: Date, settings: TenantSettings): Promise<void> {
    await this.screen(batch, now, settings);
    const maxSegments = this.config.get('SMS_MAX_SEGMENTS');
    this.refuse(
      batch,
      (r) => r.unsendable ?? (r.segments > maxSegments ? 'too_long' : null),
      () => new Error('a campaign page refuses no row with an error'),
    );
  }

  /**
   * Moves the rows `reasonOf` refuses out of the batch. A single send throws `singleError`; a bulk
   * left with nothing is a 400 listing what was refused; a campaign page may end up empty.
   */
  private refuse<Reason extends string>(
    batch: Batch,
    reasonOf: (r: Row) => Reason | null,
    singleError: (r: Row, reason: Reason) => Error,
  ): void {
    const kept: Row[] = [];
    for (const r of batch.rows) {
      const reason = reasonOf(r);
      if (reason === null) kept.push(r);
      else if (batch.mode === 'single') throw singleError(r, reason);
      else batch.refused.push({ phoneNumber: r.phoneNumber, recipientUserId: r.recipientUserId, reason });
    }
    batch.rows = kept;
    if (kept.length === 0 && batch.mode === 'bulk') throw noValidNumber(batch);
  }

  /** A campaign page past the spend cap keeps the rows that fit, in order; the rest are skipped. */
  private takeWhatFits(batch: Batch, room: SpendRoom): void {
    const fit = this.spendCap.fit(
      room,
      batch.rows.map((r) => r.estimatedCost),
    );
    for (const r of batch.rows.slice(fit))
      batch.refused.push({
        phoneNumber: r.phoneNumber,
        recipientUserId: r.recipientUserId,
        reason: SPEND_CAP_SKIP,
      });
    batch.rows = batch.rows.slice(0, fit);
  }

  /**
   * Quiet hours (the tenant's `quiet_hours`): a promotional or campaign message due inside the
   * window in the recipient's time zone (their own, else their number's country's, else the
   * tenant's, else UTC) is `scheduled` for the window's end instead, never dropped. Codes and
   * transactional messages never wait (a campaign of a transactional template neither).
   */
  private deferQuietHours(batch: Batch, now: Date, settings: TenantSettings): void {
    const window = settings.quiet_hours;
    if (!isQuietHours(window)) return;
    const tenantZone = settings.timezone ?? undefined;
    batch.rows = batch.rows.map((r) => {
      const due = r.scheduledAt ?? now;
      const until = quietUntil(due, recipientZone(r.timezone, r.country, tenantZone), window);
      if (until === null || until.getTime() <= due.getTime()) return r;
      return { ...r, status: 'scheduled', scheduledAt: until };
    });
  }

  /**
   * Test mode, from the token's `test_mode` claim or the tenant's setting: the worker hands the
   * rows to the sandbox only, and they are priced 0 and stay out of the spend cap.
   */
  private applyTestMode(batch: Batch, byToken: boolean, settings: TenantSettings): void {
    if (!byToken && settings.test_mode !== true) return;
    batch.testMode = true;
    for (const r of batch.rows) {
      r.testMode = true;
      r.estimatedCost = 0;
    }
  }

  /** The result a send or bulk presents, from the rows the policies kept. */
  private present(prepared: Prepared): void {
    const { batch, result } = prepared;
    result.testMode = batch.testMode === true;
    result.messages = batch.rows.map((r) =>
      r.whatsappMode
        ? { id: r.id, phoneNumber: r.phoneNumber, whatsappMode: r.whatsappMode }
        : { id: r.id, phoneNumber: r.phoneNumber },
    );
    result.rejected = batch.refused.map((r) => ({ phone_number: r.phoneNumber, reason: r.reason }));
    const total = sumMicros(batch.rows.map((r) => r.estimatedCost));
    result.estimatedCost = total === null ? null : toAmount(total);
    let latest: Date | null = null;
    for (const r of batch.rows)
      if (r.status === 'scheduled' && r.scheduledAt && (latest === null || r.scheduledAt > latest))
        latest = r.scheduledAt;
    if (latest !== null) {
      // Quiet hours may have moved some rows: the result says the latest time.
      result.status = 'scheduled';
      result.scheduledAt = latest;
    }
  }

  /**
   * The spend cap, the rate limit and code limits, then the rows (and the idempotency result) in
   * one commit. A tenant with a spend cap reads its spend and inserts under its lock, in one
   * transaction, as does a send with an Idempotency-Key (its result), and a code whose limits the
   * ledger counts while Redis cannot (LedgerLimits). An `alongside` write (a code's hash) is a CTE
   * of the rows' insert: one statement, alone or in that transaction. Others share the group
   * commit. A refusal stores nothing and gives back what it took.
   */
  private async write(
    principal: Principal,
    settings: TenantSettings,
    prepared: Prepared,
    input: AcceptInput,
    now: Date,
    key: string | null,
    claimId: string | null,
  ): Promise<RateLimitState> {
    const { tenantId, userId } = principal;
    const rows = prepared.batch.rows;
    const codes = this.destinations.codeAllowance(tenantId, input.messageType, now);
    const cap = prepared.batch.testMode ? null : this.spendCap.capOf(settings);
    const count = rows.length;
    const userLimit = this.limitFor(principal, settings);
    const isCode = isCodeType(input.messageType);
    // A code while Redis's count is standing down: the ledger counts every limit of the send.
    let onLedger = isCode && this.ledgerLimits.countsHere();
    let rateLimit: RateLimitState | null = null;
    if (!onLedger)
      try {
        rateLimit = await this.rateLimiter.consume(tenantId, userId, count, userLimit, now);
      } catch (e) {
        if (!isCode || !this.ledgerLimits.standsInFor(e)) throw e;
        onLedger = true;
      }
    const write: Write = {
      messages: rows.map((r) => this.stored(r, tenantId, userId, key, now)),
      batch:
        prepared.batchMetadata && prepared.result.batchId
          ? { id: prepared.result.batchId, tenantId, metadata: prepared.batchMetadata, createdAt: now }
          : null,
    };
    const { alongside } = input;
    const also =
      alongside &&
      ((param: BindParam) => alongside({ messageIds: rows.map((r) => r.id), acceptedAt: now }, param));
    const giveBack = async () => {
      if (rateLimit !== null)
        await this.rateLimiter.refund(tenantId, userId, count, now).catch(() => undefined);
      await codes.refund();
    };
    try {
      if (!onLedger)
        try {
          await codes.take(rows); // a 429 here gives the recipient quota back below
          if (isCode) this.ledgerLimits.redisAnswered();
        } catch (e) {
          if (!isCode || !this.ledgerLimits.standsInFor(e)) throw e;
          // The ledger counts the user's window too: Redis's count of it is given back (the
          // code does not wait for that).
          void giveBack();
          rateLimit = null;
          onLedger = true;
        }
      const keyed = key !== null && claimId !== null;
      if ((cap !== null || keyed) && !onLedger && !also) {
        const err = await (cap !== null ? this.cappedBatcher(tenantId) : this.keyedInserts).submit({
          write,
          cap,
          estimate: sumMicros(rows.map((r) => r.estimatedCost)) ?? 0,
          key: keyed
            ? { owner: { tenantId, userId }, key, claimId, stored: toStoredResult(prepared.result) }
            : null,
        });
        if (err !== null) throw err;
      } else if (cap === null && !keyed && !onLedger) {
        if (also) {
          // The rows and their companion in one statement: atomic without a transaction.
          await this.messages.insertMany(
            this.ds.manager,
            write.messages,
            'api',
            write.batch ? [write.batch] : [],
            also,
          );
        } else {
          const err = await this.inserts.submit(write);
          if (err !== null) throw err;
        }
      } else {
        // Built before the transaction: it then holds its connection, and the cap's lock, only
        // for its statements.
        const insert = await this.messages.prepareInsert(
          write.messages,
          'api',
          write.batch ? [write.batch] : [],
          also,
        );
        const transaction = () =>
          this.ds.transaction(async (manager) => {
            const ledger = onLedger
              ? await this.ledgerLimits.take(manager, { tenantId, userId, userLimit, recipients: rows, now })
              : null;
            if (cap !== null) {
              const estimate = sumMicros(rows.map((r) => r.estimatedCost)) ?? 0;
              const [refused] = await this.spendCap.reserve(manager, tenantId, [{ cap, estimate }]);
              if (refused) throw refused;
            }
            if (key !== null && claimId !== null)
              await this.idempotency.complete(
                manager,
                { tenantId, userId },
                key,
                claimId,
                toStoredResult(prepared.result),
              );
            await this.messages.runInsert(manager, insert);
            return ledger;
          });
        // A capped tenant's transactions take its lock one at a time: waiting here holds no
        // pool connection (see cappedInserts).
        const counted = cap !== null ? await this.capTurns(tenantId).run(transaction) : await transaction();
        if (counted !== null) {
          this.ledgerLimits.replay(counted.taken);
          rateLimit = counted.state;
        }
      }
    } catch (e) {
      await giveBack();
      throw e;
    }
    // Set on either path: Redis's consume, or the ledger's count in the transaction.
    return rateLimit as RateLimitState;
  }

  private capTurns(tenantId: number): Semaphore {
    let turns = this.cappedTurns.get(tenantId);
    if (!turns) {
      turns = new Semaphore(1);
      this.cappedTurns.set(tenantId, turns);
    }
    return turns;
  }

  private cappedBatcher(tenantId: number): Batcher<TransactionalWrite, unknown> {
    let batcher = this.cappedInserts.get(tenantId);
    if (!batcher) {
      batcher = new Batcher((ws) => this.commitTransactional(tenantId, ws), 200, 1);
      this.cappedInserts.set(tenantId, batcher);
    }
    return batcher;
  }

  /**
   * Writes in one transaction: for a capped tenant (`capped`), its spend-cap lock and its room
   * read once, each write all or nothing in arrival order (a refused one leaves its share to the
   * next); then the keys' results in one statement (a write whose claim was lost is refused, its
   * rows not written; the share it was given stays taken for this batch, the stricter side); then
   * the rows of those left in one statement. Returns null for each write
   * stored, else its refusal. When the database refuses a statement for one write's data, each
   * is written again on its own, so only that one fails.
   */
  private async commitTransactional(capped: number | null, ws: TransactionalWrite[]): Promise<unknown[]> {
    const rowsOf = (some: TransactionalWrite[]) => ({
      messages: some.flatMap((w) => w.write.messages),
      batches: some.flatMap((w) => (w.write.batch ? [w.write.batch] : [])),
    });
    // Built before the transaction (it holds the lock only for its statements); rebuilt inside for
    // those left only when some were refused.
    const every = rowsOf(ws);
    const insert = await this.messages.prepareInsert(every.messages, 'api', every.batches);
    try {
      return await this.ds.transaction(async (manager) => {
        const results: unknown[] = ws.map(() => null);
        if (capped !== null) {
          const refusals = await this.spendCap.reserve(
            manager,
            capped,
            ws.map((w) => ({ cap: w.cap ?? 0, estimate: w.estimate })),
          );
          refusals.forEach((refused, i) => (results[i] = refused));
        }
        const keyed = ws.flatMap((w, i) => (results[i] === null && w.key ? [{ i, key: w.key }] : []));
        const stored = await this.idempotency.completeMany(
          manager,
          keyed.map((k) => k.key),
        );
        keyed.forEach((k, j) => {
          if (!stored[j]) results[k.i] = new IdempotencyInFlightError(k.key.key);
        });
        if (results.every((r) => r === null)) await this.messages.runInsert(manager, insert);
        else {
          const left = rowsOf(ws.filter((_, i) => results[i] === null));
          await this.messages.insertMany(manager, left.messages, 'api', left.batches);
        }
        return results;
      });
    } catch (e) {
      if (ws.length === 1 || !isPostgresDataError(e)) return ws.map(() => e);
      const one: unknown[] = [];
      for (const w of ws) one.push((await this.commitTransactional(capped, [w]))[0]);
      return one;
    }
  }

  /** A row as stored: the columns only. */
  private stored(r: Row, tenantId: number, createdBy: string, key: string | null, now: Date): NewMessage {
    return {
      id: r.id,
      tenantId,
      userId: r.userId,
      createdBy,
      phoneNumber: r.phoneNumber,
      country: r.country,
      body: r.body,
      bodyCiphertext: r.bodyCiphertext,
      messageType: r.messageType,
      language: r.language,
      templateId: r.templateId,
      status: r.status,
      segments: r.segments,
      encoding: r.encoding,
      estimatedCost: r.estimatedCost,
      currency: r.currency,
      scheduledAt: r.scheduledAt,
      batchId: r.batchId,
      campaignId: r.campaignId,
      idempotencyKey: key,
      metadata: r.metadata,
      createdAt: now,
      statusCallbackUrl: r.statusCallbackUrl,
      sender: r.sender ?? null,
      testMode: r.testMode,
      expiresAt: r.expiresAt ?? null,
      links: r.links,
      variant: r.variant ?? null,
      // channels (issue 25)
      channel: r.channel ?? 'sms',
      channelParams: r.channelParams ?? null,
      whatsappMode: r.whatsappMode ?? null,
      fallbackChannel: r.fallbackChannel ?? null,
      fallbackOf: r.fallbackOf ?? null,
    };
  }

  /**
   * Adds the jobs after commit: a bulk as chunk jobs (100 messages each, so 10,000 numbers are 100
   * jobs), a single message through the batcher that shares one addBulk between concurrent
   * requests. A failure here loses nothing: the rows are committed and the sweeper queues them.
   */
  private async enqueueAfterCommit(prepared: Prepared, now: Date): Promise<void> {
    const { batch, result } = prepared;
    const lane = batch.lane as Exclude<Lane, 'campaign'>;
    const ids = result.messages.map((m) => m.id);
    // Each row's own due time (quiet hours may defer some rows of a bulk and not others).
    const due = new Map(batch.rows.map((r) => [r.id, r.scheduledAt]));
    const delayOf = (id: string) => Math.max(0, (due.get(id)?.getTime() ?? now.getTime()) - now.getTime());
    try {
      if (result.batchId !== null) {
        for (const [delayMs, group] of groupBy(ids, delayOf))
          await this.queue.enqueueChunks(batch.tenantId, group, delayMs, lane);
      } else
        await this.enqueues.submit(
          ids.map((id) => ({ id, tenantId: batch.tenantId, delayMs: delayOf(id), lane })),
        );
    } catch (e) {
      this.logger.warn({ count: ids.length, err: String(e) }, 'enqueue failed; the sweeper will queue them');
    }
  }

  /** A campaign page's waiting messages, on the campaign queue (paced), each at its due time. */
  private async enqueueCampaign(input: PlannedInput, outcome: PlannedOutcome, now: Date): Promise<void> {
    const due = new Map(outcome.accepted.map((a) => [a.id, a.dueAt]));
    const delayOf = (id: string) => Math.max(0, (due.get(id)?.getTime() ?? now.getTime()) - now.getTime());
    try {
      for (const [delayMs, group] of groupBy(
        outcome.accepted.map((a) => a.id),
        delayOf,
      ))
        await this.queue.enqueueCampaignChunks(input.tenantId, group, {
          delayMs,
          transactional: input.transactional,
        });
    } catch (e) {
      this.logger.warn(
        { campaignId: input.campaignId, count: outcome.accepted.length, err: String(e) },
        'campaign enqueue failed; the sweeper will queue them',
      );
    }
  }

  private limitFor(p: Principal, settings: TenantSettings): number {
    return isAdmin(p)
      ? (settings.admin_rate_limit ?? this.config.get('SMS_ADMIN_RATE_LIMIT'))
      : (settings.rate_limit ?? this.config.get('SMS_RATE_LIMIT'));
  }

  /**
   * 400 naming status_callback_url unless https to a public address: the syntax here, the host's
   * addresses (DNS) in `accept` once the request is valid; checked again at each delivery.
   */
  private checkStatusCallbackUrl(url: string | null | undefined): string | null {
    if (url === undefined || url === null) return null;
    this.callbackUrls.checkSyntax('status_callback_url', url);
    return url;
  }

  /**
   * The validity period's end of a message of `type` due at `due`: the caller's validity_seconds
   * (a 400 naming it when out of bounds), else the type's default (a code's lifetime,
   * SMS_CODE_TTL_SECONDS, which also caps it), else none.
   */
  private expiresAt(type: MessageType, given: number | null | undefined, due: Date): Date | null {
    const problem = given === undefined || given === null ? null : validityProblem(given);
    if (problem) throw ValidationFailedError.field('validity_seconds', problem);
    const codeTtl = CODE_MESSAGE_TYPES.includes(type) ? this.config.get('SMS_CODE_TTL_SECONDS') : null;
    return validityEnd(due, resolveValiditySeconds(given, codeTtl));
  }

  /**
   * The tenant's `smart_encoding` as it applies to these messages: never to codes, to a text that
   * carries a secret, or to a template marked `exact`.
   */
  private smartEncodingOf(
    settings: TenantSettings,
    m: { messageType: MessageType; exact?: boolean; secrets?: string[]; channel?: Channel },
  ): SmartEncodingMode {
    if (m.channel !== undefined && m.channel !== 'sms') return 'off'; // channels: not SMS encodings
    return smartEncodingMode(settings.smart_encoding, {
      messageType: m.messageType,
      exact: m.exact === true || (m.secrets?.length ?? 0) > 0,
    });
  }

  /**
   * Pure validation and shaping of a send or bulk: throws a 400 before anything is stored or
   * counted. The body is measured, limited and priced as sent, after smart encoding.
   */
  private prepare(
    tenantId: number,
    input: AcceptInput,
    checked: readonly ReturnType<PhoneService['forSend']>[],
    now: Date,
    smartEncoding: SmartEncodingMode,
    tracking: boolean,
  ): Prepared {
    checkMetadata(input.metadata);
    const channel = this.channels.spec(input); // channels (issue 25)
    // Tracked links first: the short links are what is encoded, measured and priced.
    const plan = tracking ? this.links.plan(input.body) : null;
    const smart = smartEncode(plan ? plan.text : input.body, smartEncoding);
    const text = smart.analysis;
    const maxSegments = this.config.get('SMS_MAX_SEGMENTS');
    if (input.body.trim() === '') throw ValidationFailedError.field('message', 'message must not be empty');
    // An SMS (or a WhatsApp message that may go as one) is measured in segments.
    if ((channel.channel === 'sms' || channel.fallbackChannel !== null) && text.segments > maxSegments) {
      throw ValidationFailedError.field(
        'message',
        `message is ${text.segments} segments (${text.encoding}); the limit is SMS_MAX_SEGMENTS=${maxSegments}`,
      );
    }
    const statusCallbackUrl = this.checkStatusCallbackUrl(input.statusCallbackUrl);
    const scheduledAt = input.scheduledAt ?? null;
    if (scheduledAt) {
      if (scheduledAt.getTime() <= now.getTime()) {
        throw ValidationFailedError.field('scheduled_time', 'scheduled_time must be in the future');
      }
      if (scheduledAt.getTime() - now.getTime() > MAX_SCHEDULE_AHEAD_MS) {
        throw ValidationFailedError.field('scheduled_time', 'scheduled_time must be within 35 days');
      }
    }
    const expiresAt = this.expiresAt(input.messageType, input.validitySeconds, scheduledAt ?? now);
    const seen = new Set<string>();
    const accepted: { phoneNumber: string; country: string | null }[] = [];
    const refused: Batch['refused'] = [];
    for (const [i, raw] of input.recipients.entries()) {
      const v = checked[i];
      if (!v.valid) {
        if (input.mode === 'single')
          throw ValidationFailedError.field('phone_number', `phone_number is not valid (${v.reason})`);
        refused.push({ phoneNumber: raw, recipientUserId: null, reason: v.reason });
        continue;
      }
      if (seen.has(v.e164)) continue; // duplicates after normalisation are sent once
      seen.add(v.e164);
      accepted.push({ phoneNumber: v.e164, country: v.country });
    }
    if (accepted.length === 0) {
      throw new ValidationFailedError('no valid phone number', [
        {
          field: 'phone_numbers',
          errors: ['no valid phone number'],
          rejected: refused.map((r) => ({ phone_number: r.phoneNumber, reason: r.reason })),
        },
      ]);
    }
    const secrets = input.secrets ?? [];
    const storedBody = secrets.length ? redact(smart.text, secrets) : smart.text;
    // A code on WhatsApp: its template variables are sealed with its text and stored redacted.
    const sealedVars = secrets.length ? channel.params?.content_variables : undefined;
    const bodyCiphertext = secrets.length
      ? this.crypto.seal({ text: smart.text, ...(sealedVars ? { contentVariables: sealedVars } : {}) })
      : null;
    const storedChannel: ChannelSpec = sealedVars
      ? {
          ...channel,
          params: {
            ...channel.params,
            content_variables: Object.fromEntries(
              Object.entries(sealedVars).map(([k, v]) => [k, redact(v, secrets)]),
            ),
          },
        }
      : channel;
    const status = scheduledAt ? 'scheduled' : 'queued';
    const batchId = input.mode === 'bulk' ? randomUUID() : null;
    const metadata = input.metadata ?? {};
    // A bulk's metadata is the same for every message: kept once, on the batch.
    const batchMetadata = batchId !== null && Object.keys(metadata).length > 0 ? metadata : null;
    const currency = this.config.get('SMS_CURRENCY');
    // Prices are estimated at the provider tried first (another channel: Twilio, per message).
    const provider = channel.channel === 'sms' ? this.router.primary() : 'twilio';
    const segments = channel.channel === 'sms' ? text.segments : 1;
    // Each message its own codes (a click names its message); the same length, so the same segments.
    const own = plan ? this.links.perMessage(storedBody, plan, accepted.length) : null;
    const rows: Row[] = accepted.map((a, i) => ({
      // UUIDv7 of the accept's time: the id names the ledger's month partition.
      id: uuidv7(now),
      userId: input.userId ?? null,
      phoneNumber: a.phoneNumber,
      body: own ? own[i].body : storedBody,
      links: own?.[i].links,
      bodyCiphertext,
      messageType: input.messageType,
      language: input.language,
      templateId: input.templateId ?? null,
      variant: input.variant ?? null,
      status,
      segments,
      encoding: text.encoding,
      estimatedCost: this.pricing.estimate(provider, a.country, segments, channel.channel),
      currency,
      scheduledAt,
      batchId,
      campaignId: input.campaignId ?? null,
      statusCallbackUrl,
      expiresAt,
      metadata: batchMetadata ? {} : metadata,
      country: a.country,
      timezone: null,
      recipientUserId: null,
      unsendable: null,
      ...channelColumns(storedChannel),
    }));
    const lane = laneOf(input.messageType, input.transactional);
    return {
      batch: { tenantId, mode: input.mode, lane, quiet: lane === 'promotional', rows, refused, channel },
      batchMetadata,
      result: {
        batchId,
        messages: [],
        rejected: [],
        status,
        segments,
        encoding: text.encoding,
        estimatedCost: null,
        currency,
        scheduledAt,
        templateId: input.templateId ?? null,
        language: input.language,
        variant: input.variant ?? null,
        acceptedAt: now,
        smartEncoding: smart.report,
        channel: channel.channel,
      },
    };
  }

  /**
   * A campaign page's messages as rows: each recipient's number normalised (else skipped as
   * `invalid_phone`), its text smart-encoded, measured and priced.
   */
  private preparePlanned(
    input: PlannedInput,
    now: Date,
    smartEncoding: SmartEncodingMode,
    tracking: boolean,
  ): Batch {
    const currency = this.config.get('SMS_CURRENCY');
    const expiresAt = this.expiresAt(input.messageType, input.validitySeconds, now);
    const channel = this.channels.spec(input); // channels (issue 25)
    const provider = channel.channel === 'sms' ? this.router.primary() : 'twilio';
    const batch: Batch = {
      tenantId: input.tenantId,
      mode: 'planned',
      lane: 'campaign',
      quiet: !input.transactional,
      rows: [],
      refused: [],
      channel,
    };
    for (const p of input.messages) {
      const v = this.phone.forSend(p.phoneNumber);
      if (!v.valid) {
        batch.refused.push({
          phoneNumber: p.phoneNumber,
          recipientUserId: p.recipientUserId,
          reason: 'invalid_phone',
        });
        continue;
      }
      const plan = tracking ? this.links.plan(p.body) : null;
      const { text: encoded, analysis: text } = smartEncode(plan ? plan.text : p.body, smartEncoding);
      const own = plan ? this.links.perMessage(encoded, plan, 1)[0] : null;
      // A campaign's optimal send time (issue 25): due then, its validity counted from then.
      const due = p.scheduledAt && p.scheduledAt.getTime() > now.getTime() ? p.scheduledAt : null;
      batch.rows.push({
        // One id per campaign and recipient: the primary key refuses a second row for it.
        id: campaignMessageId(input.campaignId, p.recipientUserId),
        userId: p.recipientUserId,
        phoneNumber: v.e164,
        body: own ? own.body : encoded,
        links: own?.links,
        bodyCiphertext: null,
        messageType: input.messageType,
        language: p.language,
        templateId: input.templateId,
        variant: p.variant ?? null,
        status: due ? 'scheduled' : 'queued',
        segments: channel.channel === 'sms' ? text.segments : 1,
        encoding: text.encoding,
        estimatedCost: this.pricing.estimate(
          provider,
          v.country,
          channel.channel === 'sms' ? text.segments : 1,
          channel.channel,
        ),
        currency,
        scheduledAt: due,
        batchId: null,
        campaignId: input.campaignId,
        statusCallbackUrl: null,
        expiresAt: due ? this.expiresAt(input.messageType, input.validitySeconds, due) : expiresAt,
        metadata: {},
        country: v.country,
        timezone: p.timezone,
        recipientUserId: p.recipientUserId,
        unsendable: p.unsendable ?? null,
        ...channelColumns(channel),
      });
    }
    return batch;
  }
}

/**
 * Not transactional and not a code (core `isTransactional`, a custom type's template flag): a send
 * on the promotional lane, or a campaign of a template not transactional (the batches quiet hours
 * apply to).
 */
function isPromotional(batch: Batch): boolean {
  return batch.lane === 'promotional' || (batch.lane === 'campaign' && batch.quiet);
}

/** Why a promotional message is refused when quiet hours would hold it past its validity period. */
const QUIET_PAST_VALIDITY = 'validity_ends_in_quiet_hours';

/** The 400 of a bulk none of whose recipients remains, listing why each was refused. */
function noValidNumber(batch: Batch): ValidationFailedError {
  const rejected = batch.refused.map((r) => ({ phone_number: r.phoneNumber, reason: r.reason }));
  return new ValidationFailedError('no valid phone number', [
    { field: 'phone_numbers', errors: ['no valid phone number'], rejected },
  ]);
}

/** `ids` grouped by `keyOf`, in first-seen order. */
function groupBy(ids: string[], keyOf: (id: string) => number): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const id of ids) {
    const k = keyOf(id);
    const group = groups.get(k);
    if (group) group.push(id);
    else groups.set(k, [id]);
  }
  return groups;
}

/** A row's channel columns (issue 25). */
function channelColumns(spec: ChannelSpec): Pick<Row, 'channel' | 'channelParams' | 'fallbackChannel'> {
  return { channel: spec.channel, channelParams: spec.params, fallbackChannel: spec.fallbackChannel };
}
