import { BeforeApplicationShutdown, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import type { Redis } from 'ioredis';
import { Clock } from '../../common/clock';
import { QueueWorker } from '../../common/queue-worker';
import { AppConfig } from '../../config/app-config';
import { CODE_MESSAGE_TYPES, ProviderName } from '../../core/message-types';
import { isPastValidity, secondsLeft } from '../../core/validity';
import {
  AllProvidersFailedError,
  CircuitsOpenError,
  noteRoute,
  OutboundSms,
  ProviderError,
  ProviderNotCalledError,
  SmsRouter,
} from '../../providers';
import { TenantsService } from '../../tenancy';
import { BodyCrypto } from '../accept/body-crypto';
import { CampaignPacer } from './campaign-pacer';
import {
  DEFAULT_LANE,
  DeliverJobData,
  DeliveryJob,
  DeliveryQueue,
  Lane,
  LANE_PRIORITY,
  messageIdsOf,
} from './delivery-queue';
import { LaneSemaphore, Slot } from './lane-semaphore';
import { AttemptOutcome, ClaimedMessage, DeliveryStore } from './delivery-store';
import { OptOutsService } from '../policies/opt-outs.service';
import { expireIfLate, retryDelayMs, ValidityExpiredError } from './validity-guard';
import { ChannelDelivery } from '../channels/channel-delivery';

export interface DeliverSummary {
  sent: number;
  failed: number;
  skipped: number;
}

/** How long shutdown waits for provider calls and outcome writes in flight. */
const DRAIN_TIMEOUT_MS = 8_000;
/** Campaign chunk jobs a worker process runs at once (their messages share the capped slots). */
const CAMPAIGN_CHUNK_CONCURRENCY = 2;
/** A paced message waiting for its hand-over time looks at `stopping` this often. */
const PACING_SLICE_MS = 250;
/** A paced message woken more than one interval late takes a new time, at most this many times. */
const PACING_LATE_RETRIES = 3;

type Handlers = Partial<
  Record<DeliveryJob, { concurrency: number; handle: (job: Job<DeliverJobData>) => Promise<DeliverSummary> }>
>;

/** What a slot's previous holder hands over with it: the next message, claimed in its outcome write. */
type Handed = { claimed: ClaimedMessage | null };
type Attempted = { msg: ClaimedMessage; outcome: AttemptOutcome; retryAt?: number };
/** Per message of a job: attempted; null = not ours (canceled, sent, not due); 'unclaimed' = shutting down. */
type Step = Attempted | null | 'unclaimed';

/**
 * Worker role only: takes delivery jobs (one message, or a bulk chunk) and hands each message to
 * the providers at most once per attempt. Provider calls in flight are capped at
 * SMS_WORKER_CONCURRENCY however the messages arrive, and a slot is held from the claim until the
 * outcome is written: at most SMS_WORKER_CONCURRENCY rows are ever 'sending' for this process.
 *
 * Lanes: a freed slot goes to the best waiting lane (codes, then transactional, then promotional);
 * codes come from a queue of their own, so no bulk chunk job holds the Bull loop a code needs;
 * campaign messages (their own queue, CAMPAIGN_CHUNK_CONCURRENCY chunk jobs at a time) hold at
 * most LaneSemaphore.cappedShare of the slots, each after its tenant's paced hand-over time
 * (SMS_CAMPAIGN_MPS) and before its claim: waiting spends no attempt. LaneSemaphore.reservedShare
 * of the slots (a tenth) only codes take, so a code never waits for a bulk's slot to free.
 */
@Injectable()
export class DeliveryProcessor implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryProcessor.name);
  private readonly inFlight: LaneSemaphore<Handed>;
  private readonly pacer: CampaignPacer;
  private readonly maxAttempts: number;
  private readonly outageToleranceMs: number;
  private readonly handlers: Handlers;
  private readonly campaignHandlers: Handlers;
  private readonly codeHandlers: Handlers;
  /** Set on shutdown: no new message is claimed. */
  private stopping = false;
  private deadline = 0;
  private paused: Promise<void> = Promise.resolve();
  private readonly running = new Set<Promise<unknown>>();
  /** Every lane queue of every shard, with its worker and handlers: each shard has loops of its own. */
  private readonly workers: {
    queue: Queue<DeliverJobData>;
    worker: QueueWorker<DeliverJobData>;
    handlers: Handlers;
  }[];

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly store: DeliveryStore,
    private readonly router: SmsRouter,
    private readonly crypto: BodyCrypto,
    private readonly optOuts: OptOutsService,
    private readonly clock: Clock,
    config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly channels: ChannelDelivery,
  ) {
    const concurrency = config.get('SMS_WORKER_CONCURRENCY');
    const takesCodes = config.get('SMS_WORKER_QUEUES').includes('codes');
    this.inFlight = new LaneSemaphore<Handed>(
      concurrency,
      LaneSemaphore.cappedShare(concurrency),
      // Slots kept for codes only where codes come.
      takesCodes ? LaneSemaphore.reservedShare(concurrency) : 0,
      LANE_PRIORITY.code,
    );
    // A tenant's pacing key lives beside its campaign chunks, in its shard's slot. Any shard's
    // client reaches it: one server, or a cluster client that routes by key.
    this.pacer = new CampaignPacer(
      queue.campaignQueue.client as unknown as Redis,
      (tenantId) => queue.campaignQueueOf(tenantId).toKey(`pace:${tenantId}`),
      config.get('SMS_CAMPAIGN_MPS'),
    );
    this.maxAttempts = config.get('SMS_MAX_ATTEMPTS');
    this.outageToleranceMs = config.get('SMS_OUTAGE_TOLERANCE_MINUTES') * 60_000;
    // One handler per job name, on the queue that carries it; start-up fails on a missing one.
    // Bull adds the concurrencies of one queue's handlers up, and each of its loops takes a job of
    // any name: during a large bulk, up to concurrency + ceil(concurrency / 25) chunk jobs run, and
    // their thousands of messages wait in the semaphore (unclaimed, so still 'queued').
    this.handlers = {
      [DeliveryJob.Deliver]: { concurrency, handle: (job) => this.deliver(job) },
      [DeliveryJob.DeliverChunk]: {
        concurrency: Math.max(2, Math.ceil(concurrency / 25)),
        handle: (job) => this.deliver(job),
      },
    };
    this.campaignHandlers = {
      [DeliveryJob.DeliverCampaignChunk]: {
        concurrency: CAMPAIGN_CHUNK_CONCURRENCY,
        handle: (job) => this.deliver(job),
      },
    };
    // Codes: single-message jobs, on a queue no chunk job can take the loops of; each job holds
    // one loop and at most one slot, so a burst of codes can use every slot, first in line.
    this.codeHandlers = {
      [DeliveryJob.Deliver]: { concurrency, handle: (job) => this.deliver(job) },
    };
    const every = [...Object.keys(this.handlers), ...Object.keys(this.campaignHandlers)];
    const missing = Object.values(DeliveryJob).filter((n) => !every.includes(n));
    if (missing.length > 0) throw new Error(`no handler for delivery jobs: ${missing.join(', ')}`);
    // Shards (SMS_QUEUE_SHARDS): each lane queue of each shard gets the handlers above, so every
    // shard is taken from side by side however busy the others are; the one semaphore still caps
    // what is in flight, and orders it by lane (a code on any shard overtakes).
    // SMS_WORKER_QUEUES: a worker may take only some of them (a codes-only worker).
    const ended = (e: unknown) => this.logger.debug({ err: String(e) }, 'delivery queue processing ended');
    const taken = new Set(config.get('SMS_WORKER_QUEUES'));
    this.workers = queue.shards.flatMap((shard) =>
      (
        [
          ['delivery', shard.queue, this.handlers],
          ['campaigns', shard.campaignQueue, this.campaignHandlers],
          ['codes', shard.codeQueue, this.codeHandlers],
        ] as const
      )
        .filter(([name]) => taken.has(name))
        .map(([, q, handlers]) => ({ queue: q, worker: new QueueWorker(q, ended), handlers })),
    );
  }

  onModuleInit(): void {
    for (const { worker, handlers } of this.workers)
      worker.start(
        Object.entries(handlers).map(([name, { concurrency, handle }]) => ({
          name,
          concurrency,
          handle: (job: Job<DeliverJobData>) => this.track(handle(job)),
        })),
      );
  }

  /**
   * SIGTERM (enableShutdownHooks) or app.close(), first phase: stop taking jobs at once (a local
   * pause that does not wait for the active ones) and claim nothing more. Messages of running
   * jobs that were not claimed stay 'queued' and are handed over as jobs of their own.
   */
  onModuleDestroy(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.deadline = Date.now() + DRAIN_TIMEOUT_MS;
    this.store.stopRetryingAt(this.deadline);
    // A worker still starting finishes connecting first: the pause closes the blocking connection
    // its start is still using.
    const pause = (worker: QueueWorker<DeliverJobData>, queue: Queue<DeliverJobData>) =>
      worker
        .settled(3_000)
        .then(() => queue.pause(true, true))
        .catch((e: unknown) => {
          this.logger.warn({ err: String(e) }, 'delivery queue not paused');
        });
    this.paused = Promise.all(this.workers.map((w) => pause(w.worker, w.queue))).then(() => undefined);
  }

  /**
   * Second phase, before the queue, Redis and the database close: the provider calls and outcome
   * writes in flight finish (bounded by DRAIN_TIMEOUT_MS).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    const timer = new Promise<'timeout'>((r) =>
      setTimeout(() => r('timeout'), this.deadline - Date.now()).unref(),
    );
    const drained = Promise.all([this.paused, Promise.allSettled([...this.running])]);
    if ((await Promise.race([drained, timer])) === 'timeout') {
      this.logger.warn({ jobs: this.running.size }, 'delivery jobs still running at shutdown');
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const done = () => this.running.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Each of the job's messages takes a slot of the semaphore, then is claimed (skipped when it was
   * canceled, sent, or is not due), attempted, and its outcome written before the slot is given
   * back (batched with the other messages in flight). Throws when any message must be retried:
   * Bull runs the job again after its backoff, and the claim then takes only the messages that
   * went back to 'queued'.
   */
  async deliver(job: Job<DeliverJobData>): Promise<DeliverSummary> {
    const lane = job.data.lane ?? DEFAULT_LANE;
    const tenantId = job.data.tenantId;
    const paced = lane === 'campaign' && tenantId !== undefined;
    let all = messageIdsOf(job.data);
    let transactional = 'transactional' in job.data ? job.data.transactional : undefined;
    // The slots' lane and tenant: the job's, or for a laneless job what its rows say.
    let slotLane: Lane = lane;
    let flowTenant = tenantId;
    if (job.data.lane === undefined) {
      const swept = await this.laneless(all);
      ({ ids: all, transactional } = swept);
      slotLane = swept.lane;
      flowTenant = swept.tenantId;
    }
    // A paced message spends its tenant's budget: those no longer waiting (a canceled campaign,
    // a message another job sent) do not queue for one.
    const ids = paced ? await this.stillWaiting(all) : all;
    // Tenants take turns at the slots within a lane (a job whose tenant is not known is its own).
    const slot = {
      priority: LANE_PRIORITY[slotLane],
      capped: slotLane === 'campaign',
      flow: flowTenant === undefined ? `job:${job.id}` : `tenant:${flowTenant}`,
    };
    // When this job runs again should one of its messages need a retry (a validity may end first).
    const retryInMs = retryDelayMs(job);
    const steps: Step[] = await Promise.all(
      ids.map((id) =>
        this.inFlight.run(
          slot,
          async (held): Promise<Step> => {
            let msg: ClaimedMessage | null;
            if (held.gift) {
              // Claimed by the slot's previous holder as it recorded its own outcome: ours to send.
              msg = held.gift.claimed;
            } else {
              if (this.stopping) return 'unclaimed';
              if (paced && !(await this.paceFor(tenantId))) return 'unclaimed';
              msg = await this.store.claim(id);
            }
            if (!msg) return null;
            const attempted = await this.attempt(
              msg,
              job.data.lane === undefined
                ? transactional
                : sendsAsTransactional(job.data.lane, transactional),
              retryInMs,
            );
            await this.settle(attempted, held);
            return attempted;
          },
          // A paced message waits for its hand-over time before its claim: it cannot be claimed
          // by the slot's previous holder.
          paced ? undefined : id,
        ),
      ),
    );
    await this.handOver(
      job,
      ids.filter((_, i) => steps[i] === 'unclaimed'),
    );
    const done = steps.filter((s): s is Attempted => s !== null && s !== 'unclaimed');
    // Every provider was down: each waits for the next half-open trial in a delayed job of its own.
    const deferred = done.filter((d) => d.outcome.outcome === 'deferred');
    if (deferred.length > 0) {
      // retryAt is in the circuit breakers' time (Date.now()), so the delay is too.
      const now = Date.now();
      if (paced) {
        // Still campaign traffic: back to its own queue, paced, after the latest trial.
        const at = Math.max(...deferred.map((d) => d.retryAt ?? now));
        await this.queue.enqueueCampaignChunks(
          tenantId,
          deferred.map((d) => d.msg.id),
          {
            delayMs: at - now,
            transactional,
            jobSuffix: `:after:${at}`,
          },
        );
      } else {
        await this.queue.enqueue(
          deferred.map((d) => ({
            id: d.msg.id,
            tenantId: d.msg.tenantId,
            jobId: `${d.msg.id}:after:${d.retryAt ?? now}`,
            delayMs: (d.retryAt ?? now) - now,
            lane: job.data.lane,
          })),
        );
      }
    }
    const retries = done.filter((d) => d.outcome.outcome === 'retry').length;
    if (retries > 0) throw new Error(`${retries} of ${done.length} messages will be retried`);
    const sent = done.filter((d) => d.outcome.outcome === 'sent').length;
    const failed = done.filter(
      (d) => d.outcome.outcome === 'failed' || d.outcome.outcome === 'unknown',
    ).length;
    return { sent, failed, skipped: ids.length - sent - failed };
  }

  /**
   * Messages a stopping worker did not claim: still 'queued', each goes back to the queue as a
   * job of its own, which another worker takes at once (the sweeper re-queues them should Redis
   * refuse). A single-message job is simply failed, and Bull runs it again.
   */
  private async handOver(job: Job<DeliverJobData>, unclaimed: string[]): Promise<void> {
    if (unclaimed.length === 0) return;
    if (job.name === DeliveryJob.Deliver) throw new Error('worker stopping: message not claimed');
    const data = job.data;
    const handed =
      'ids' in data && data.tenantId !== undefined && data.lane === 'campaign'
        ? // Still paced: a campaign chunk of its own (a new id: this chunk's job is still running).
          this.queue.enqueueCampaignChunks(data.tenantId, unclaimed, {
            transactional: data.transactional,
            jobSuffix: `:handover:${Date.now()}`,
          })
        : this.queue.enqueue(unclaimed.map((id) => ({ id, lane: data.lane, tenantId: data.tenantId })));
    await handed.catch((e: unknown) =>
      this.logger.warn({ err: String(e) }, 'hand-over failed; the sweeper will re-queue'),
    );
  }

  /**
   * A job without a lane comes from the sweeper (Redis lost its jobs, or an enqueue failed). Its
   * campaign messages go back to the campaign queue, paced, instead of taking the fast lanes; the
   * others stay, and a single message's template says whether it is transactional (the flag
   * otherwise travels in the job data). Returns the ids that stay, that flag, the lane whose slots
   * they take (codes': the code lane, so a re-queued code uses the slots kept for codes; the
   * others': the transactional one, never behind promotions) and their tenant when they have one.
   */
  private async laneless(
    ids: string[],
  ): Promise<{ ids: string[]; transactional?: boolean; lane: Lane; tenantId?: number }> {
    const rows = await this.store.waitingLanes(ids);
    const campaign = rows.filter((r) => r.campaignId !== null);
    const byTenant = new Map<number, string[]>();
    for (const r of campaign) byTenant.set(r.tenantId, [...(byTenant.get(r.tenantId) ?? []), r.id]);
    const suffix = `:swept:${Date.now()}`;
    for (const [tenantId, campaignIds] of byTenant)
      await this.queue.enqueueCampaignChunks(tenantId, campaignIds, {
        jobSuffix: suffix,
        transactional: campaign.find((r) => r.tenantId === tenantId)?.declared || undefined,
      });
    const moved = new Set(campaign.map((r) => r.id));
    const stay = ids.filter((id) => !moved.has(id));
    const own = stay.length === 1 ? rows.find((r) => r.id === stay[0]) : undefined;
    const staying = rows.filter((r) => !moved.has(r.id));
    const codes = staying.length > 0 && staying.every((r) => CODE_MESSAGE_TYPES.includes(r.messageType));
    const tenants = new Set(staying.map((r) => r.tenantId));
    return {
      ids: stay,
      // A custom type's template flag; undefined lets the message type decide (built-in types).
      transactional: own?.declared ? true : undefined,
      lane: codes ? 'code' : DEFAULT_LANE,
      tenantId: tenants.size === 1 ? staying[0].tenantId : undefined,
    };
  }

  /** The job's messages still waiting to be handed over (queued or scheduled), in the job's order. */
  private async stillWaiting(ids: string[]): Promise<string[]> {
    const waiting = new Set(await this.store.waiting(ids));
    return ids.filter((id) => waiting.has(id));
  }

  /**
   * Waits for the tenant's next campaign hand-over time (SMS_CAMPAIGN_MPS); false when the
   * worker began stopping meanwhile (the message is then handed over unclaimed).
   */
  private async paceFor(tenantId: number): Promise<boolean> {
    for (let tries = 1; ; tries++) {
      const due = Date.now() + (await this.pacer.reserve(tenantId));
      for (let left = due - Date.now(); left > 0; left = due - Date.now()) {
        if (this.stopping) return false;
        await new Promise((r) => setTimeout(r, Math.min(left, PACING_SLICE_MS)));
      }
      // Woken late (the event loop was held up): going now would bunch this hand-over with the
      // punctual ones after it; it takes a new time instead (a few times at most).
      if (Date.now() - due <= this.pacer.intervalMs || tries >= PACING_LATE_RETRIES) return !this.stopping;
    }
  }

  /**
   * Hands the claimed message to the router, which plans its first provider (the tenant's pin,
   * else adaptive routing; the plan's note goes on the attempt's event). The claim recorded the
   * provider the router was likely to call first; when this message's first call goes elsewhere,
   * the row is corrected to that provider before the call (nothing was called yet), and any other
   * provider (a fallback, or circuits that changed since the claim) is added before it is called.
   * Neither is called when its write fails (the attempt is then retried: nothing reached it). So a
   * worker that dies mid-call leaves a row naming every provider that may have the message, and
   * the outcome resolver asks only those.
   *
   * Before every call, the first and each fallback, the message's validity period is checked: past
   * it the provider is not called (the attempt ends `expired`), else the provider is told the
   * seconds left (`validitySeconds`, Twilio's ValidityPeriod). A test-mode message is not routed:
   * it goes to the test-mode sandbox only.
   */
  private async attempt(
    msg: ClaimedMessage,
    transactional: boolean | undefined,
    retryInMs: number,
  ): Promise<Attempted> {
    const recorded = new Set<ProviderName>(msg.providers);
    let calls = 0;
    let sms: OutboundSms | null = null;
    const beforeCall = (provider: ProviderName): Promise<void> | undefined => {
      if (sms) this.inTime(msg, sms);
      const first = calls++ === 0;
      if (recorded.has(provider)) return undefined;
      return this.store.recordProvider(msg, provider, first).then(() => {
        if (first) recorded.clear();
        recorded.add(provider);
        if (sms) this.inTime(msg, sms);
      });
    };
    // A pin is a preference: a tenant that cannot be read now routes as if it had none. A test-mode
    // message goes to the test-mode sandbox only, never to a real provider, and is not routed.
    const tenant = msg.testMode ? null : await this.tenants.ensure(msg.tenantId).catch(() => null);
    const plan = msg.testMode
      ? null
      : await this.router.planFor(
          msg.tenantId,
          { to: msg.phoneNumber, messageType: msg.messageType },
          tenant?.settings.routing,
        );
    try {
      const secret = msg.bodyCiphertext ? this.crypto.open(msg.bodyCiphertext) : null;
      const body = secret ? secret.text : msg.body;
      const out: OutboundSms = {
        messageId: msg.id,
        tenantId: msg.tenantId,
        to: msg.phoneNumber,
        body,
        messageType: msg.messageType,
        transactional,
        sender: msg.sender,
        attempt: msg.attempts,
      };
      await this.channels.prepare(msg, out); // channels (issue 25): WhatsApp / MMS fields
      // A code's WhatsApp template variables are stored redacted; the clear ones were sealed with its text.
      if (secret?.contentVariables && out.contentVariables) out.contentVariables = secret.contentVariables;
      sms = out;
      const { result, tried } = plan
        ? await this.router.send(out, plan, { beforeCall })
        : await this.router.routerFor(true).send(out, { beforeCall });
      const cost = result.cost;
      return {
        msg,
        outcome: {
          id: msg.id,
          outcome: 'sent',
          provider: result.provider,
          providerMessageId: result.providerMessageId,
          // Micro-units, already the charge (providers' negative amounts are made positive there).
          cost,
          currency: cost === null ? null : result.currency,
          tried: plan ? noteRoute(tried, plan) : tried,
        },
      };
    } catch (e) {
      const failed = this.failure(msg, e, retryInMs);
      if (plan) failed.outcome.tried = noteRoute(failed.outcome.tried, plan);
      return failed;
    }
  }

  /** Throws when the message's validity period has ended; else sets the seconds left on `sms`. */
  private inTime(msg: ClaimedMessage, sms: OutboundSms): void {
    if (msg.expiresAt === null) return;
    const now = this.clock.now();
    if (isPastValidity(msg.expiresAt, now)) throw new ValidityExpiredError(msg.expiresAt);
    sms.validitySeconds = secondsLeft(msg.expiresAt, now) ?? undefined;
  }

  /**
   * Writes the outcome (batched with the other messages in flight; retried until written), then
   * what follows. When a message waits for this slot, the same statement claims it and the slot
   * goes to it with the claim: one round trip per message instead of two, and the slot never
   * holds more than one 'sending' row.
   */
  private async settle({ msg, outcome }: Attempted, held: Slot<Handed>): Promise<void> {
    const next = this.stopping ? null : held.successor();
    if (next === null) await this.store.record(outcome);
    else {
      try {
        const { claimed } = await this.store.recordAndClaim(outcome, next.key);
        next.pass({ claimed });
      } catch (e) {
        this.logger.debug({ messageId: msg.id, err: String(e) }, 'hand-over not written; recording alone');
        next.putBack();
        await this.store.record(outcome);
      }
    }
    if (outcome.outcome === 'failed') {
      this.logger.warn({ messageId: msg.id, errorCode: outcome.errorCode }, 'message failed');
      if (outcome.optedOut) {
        // The recipient said STOP: never text (or pay for) this number again for this tenant.
        await this.optOuts.add(msg.tenantId, msg.phoneNumber, 'provider', outcome.errorCode);
      }
    } else if (outcome.outcome === 'unknown') {
      this.logger.warn({ messageId: msg.id, errorCode: outcome.errorCode }, 'message outcome unknown');
    } else if (outcome.outcome === 'expired') {
      this.logger.log({ messageId: msg.id, expiresAt: msg.expiresAt }, 'message expired unsent');
    }
  }

  /**
   * The outcome of an attempt that threw, seen against the message's validity period: a retry, a
   * deferral or a failure for want of a provider ends `expired` when the validity has ended or
   * would before the next attempt (the job's backoff, or the next half-open trial).
   */
  private failure(msg: ClaimedMessage, e: unknown, retryInMs: number): Attempted {
    const attempted = this.failureOf(msg, e);
    // retryAt is in the circuit breakers' time (Date.now()); the validity in the Clock's.
    const nextInMs =
      attempted.outcome.outcome === 'deferred' ? (attempted.retryAt ?? Date.now()) - Date.now() : retryInMs;
    const outcome = expireIfLate(attempted.outcome, msg.expiresAt, this.clock.now(), nextInMs, {
      permanent: e instanceof ProviderError && e.kind === 'permanent',
      untried:
        !(e instanceof ProviderError) ||
        e instanceof CircuitsOpenError ||
        (e instanceof ProviderNotCalledError && e.attempts.length === 0),
    });
    return outcome === attempted.outcome ? attempted : { msg, outcome };
  }

  private failureOf(msg: ClaimedMessage, e: unknown): Attempted {
    const id = msg.id;
    // The row's own count (incremented by the claim) decides, whichever job carries the message.
    const lastAttempt = msg.attempts >= this.maxAttempts;
    const now = this.clock.now().getTime();
    // An outage of every provider ends a message only this long after it was created.
    const withinOutage = now - msg.createdAt.getTime() < this.outageToleranceMs;
    if (e instanceof CircuitsOpenError) {
      const last = e.lastError;
      const errorCode = last?.code ?? e.code;
      const errorMessage = last?.message ?? e.message;
      const tried = [{ provider: e.provider, code: 'circuit_open' }];
      if (!withinOutage) return { msg, outcome: { id, outcome: 'failed', errorCode, errorMessage, tried } };
      // Nothing was tried: the attempt is given back, and the message waits for the next trial.
      return {
        msg,
        outcome: { id, outcome: 'deferred', errorCode, errorMessage, tried },
        retryAt: e.retryAt,
      };
    }
    if (e instanceof ProviderError) {
      const tried =
        e instanceof AllProvidersFailedError
          ? e.attempts
          : e instanceof ProviderNotCalledError
            ? [...e.attempts, { provider: e.provider, code: e.code }]
            : [{ provider: e.provider, code: e.code }];
      if (e.kind === 'timeout') {
        // At most once: the provider may have sent it, so it is neither retried nor sent elsewhere;
        // it waits as 'unknown' until the provider is asked.
        const errorMessage = `${e.message} (outcome unknown: the provider may have sent it; not resent automatically)`;
        return { msg, outcome: { id, outcome: 'unknown', errorCode: e.code, errorMessage, tried } };
      }
      const retry = e.kind === 'retryable' && !lastAttempt;
      return {
        msg,
        outcome: {
          id,
          outcome: retry ? 'retry' : 'failed',
          errorCode: e.code,
          errorMessage: e.message,
          tried,
          // The provider says the recipient said STOP (its own codes, known to it alone).
          optedOut: e.optedOut,
        },
      };
    }
    // Our own fault (e.g. a bad ciphertext): retry like a provider outage, with the error kept.
    const message = e instanceof Error ? e.message : String(e);
    return {
      msg,
      outcome: {
        id,
        outcome: lastAttempt ? 'failed' : 'retry',
        errorCode: 'internal_error',
        errorMessage: message,
        tried: [],
      },
    };
  }
}

/**
 * How the provider should class the message (SNS SMSType). A job's lane says it for a custom type
 * (from its template's `transactional`); without one, the type alone decides (undefined).
 */
function sendsAsTransactional(lane: Lane | undefined, declared: boolean | undefined): boolean | undefined {
  switch (lane) {
    case undefined:
      return undefined;
    case 'code':
    case 'transactional':
      return true;
    case 'promotional':
      return false;
    case 'campaign':
      return declared;
  }
}
