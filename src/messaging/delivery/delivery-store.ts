import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../../common/batcher';
import { Clock } from '../../common/clock';
import type { Channel, ChannelParams, WhatsappMode } from '../../core/channels';
import { MESSAGE_STATUSES, MessageStatus, MessageType, ProviderName } from '../../core/message-types';
import { formatMoney, Micros } from '../../core/money';
import { canTransition } from '../../core/status-machine';
import { SmsRouter } from '../../providers';

/** A message the worker has claimed for one attempt (status is now 'sending'). */
export interface ClaimedMessage {
  id: string;
  tenantId: number;
  phoneNumber: string;
  body: string;
  bodyCiphertext: string | null;
  messageType: MessageType;
  attempts: number;
  createdAt: Date;
  /**
   * The providers recorded on the row as handed this attempt (`attempt_providers`): the one the
   * router was to call first when the claim was written, or none when every circuit was open. Any
   * other provider is recorded (recordProvider) before it is called.
   */
  providers: ProviderName[];
  /** The validity period's end (`expires_at`): no provider may be handed it after this; null: none. */
  expiresAt: Date | null;
  /** The sender identity chosen at accept (`sender`); null: the provider's default. */
  sender: string | null;
  /** Accepted in test mode: only the sandbox provider may have it, at no cost. */
  testMode: boolean;
  // channels (issue 25)
  channel: Channel;
  channelParams: ChannelParams | null;
  whatsappMode: WhatsappMode | null;
}

export type AttemptOutcome =
  | {
      id: string;
      outcome: 'sent';
      provider: ProviderName;
      providerMessageId: string;
      /** What the provider reported at send time, exact; null when it did not say. */
      cost: Micros | null;
      currency: string | null;
      tried: unknown;
    }
  | {
      id: string;
      /**
       * retry: back to 'queued' (attempt spent); deferred: back to 'queued' with the attempt given
       * back (every provider was down, nothing was tried); unknown: a provider may have it (timeout);
       * failed: final; expired: its validity period ended before any provider took it (final).
       */
      outcome: 'retry' | 'deferred' | 'unknown' | 'failed' | 'expired';
      errorCode: string;
      errorMessage: string;
      tried: unknown;
      /** Failed because the recipient opted out of this sender (`ProviderError.optedOut`). */
      optedOut?: boolean;
      /** expired: no provider was called in this attempt, so it is given back (as for deferred). */
      untried?: boolean;
    };

/** A slot's hand-over: the outcome of the message it held, and the message it goes to. */
interface Swap {
  outcome: AttemptOutcome;
  nextId: string;
}

export interface SwapResult {
  recorded: boolean;
  claimed: ClaimedMessage | null;
}

/** A message still waiting to be handed over, with what decides its lane. */
export interface WaitingLane {
  id: string;
  tenantId: number;
  campaignId: string | null;
  declared: boolean;
  messageType: MessageType;
}

/** Outcome writes are retried until PostgreSQL answers: first after this, doubling up to the cap. */
const WRITE_RETRY_FIRST_MS = 50;
const WRITE_RETRY_MAX_MS = 2_000;

/** Rows per claim or outcome statement, and such statements running at once for this process. */
const MAX_BATCH = 500;
const MAX_IN_FLIGHT = 2;

/*
 * The statements below find the ledger's rows by primary key whatever the statistics say. A status
 * test beside the key is written so that no index serves it: `IS NOT DISTINCT FROM` (status is NOT
 * NULL), or applied after a MATERIALIZED lookup by id. Written plainly, it matches
 * `sms_messages_pending`, and on a partition analysed while few rows waited the planner reads every
 * waiting row of the partition instead (docs/ARCHITECTURE.md, "Performance"; the test is
 * test/medium/messaging/ledger-writes-by-key.medium-spec.ts).
 */

/** DeliveryStore.recordProvider's statement: $1 id, $2 attempts, $3 provider, $4 at, $5 first. */
export const RECORD_PROVIDER_SQL = `WITH recorded AS (
     UPDATE sms_messages
        SET attempt_providers = CASE WHEN attempt_providers IS NULL THEN NULL
                                     WHEN $5::boolean THEN ARRAY[$3::varchar]
                                     ELSE array_append(attempt_providers, $3::varchar) END,
            updated_at = $4
      WHERE id = $1 AND status IS NOT DISTINCT FROM 'sending' AND attempts = $2
     RETURNING id
   )
   SELECT id FROM recorded`;

/** Of these ids ($1), those still waiting to be handed over. */
export const WAITING_SQL = `WITH asked AS MATERIALIZED (SELECT id, status FROM sms_messages WHERE id = ANY($1::uuid[]))
   SELECT id FROM asked WHERE status IN ('queued', 'scheduled')`;

/** The same, with what decides their lane. */
export const WAITING_LANES_SQL = `WITH asked AS MATERIALIZED (
     SELECT m.id, m.tenant_id, m.campaign_id, m.message_type, m.template_id, m.status
       FROM sms_messages m WHERE m.id = ANY($1::uuid[])
   )
   SELECT a.id, a.tenant_id, a.campaign_id, a.message_type,
          EXISTS (SELECT 1 FROM sms_templates t
                   WHERE t.tenant_id = a.tenant_id AND t.template_id = a.template_id
                     AND t.message_type = a.message_type AND t.transactional) AS declared
     FROM asked a WHERE a.status IN ('queued', 'scheduled')`;

/** Statuses a receipt parked before 'sent' was recorded may move the message to (the machine's rules). */
const PARKED_MOVES: MessageStatus[] = MESSAGE_STATUSES.filter((s) => canTransition('sent', s));

/**
 * The worker's statements on `sms_messages` (the worker's system repository). Its writes are
 * batched: concurrent jobs' claims share one UPDATE, and their outcomes another (or a slot's
 * outcome and its next claim one call), each with its events in the same statement. Rows move
 * forward only: a claim takes 'queued' or due 'scheduled' rows; an outcome applies only to a
 * 'sending' row. Times come from the injected Clock (the same source as created_at), never SQL
 * now(). It also reads which of a job's messages still wait, and their lanes.
 *
 * Each claim records on the row the provider its attempt will be handed to first
 * (`attempt_providers`), peeked from the router's circuits as the statement is sent, so that the
 * outcome resolver asks only that provider about a row a dead worker left 'sending'; a provider
 * called after it (a fallback) is recorded by `recordProvider` before the call.
 */
@Injectable()
export class DeliveryStore {
  private readonly logger = new Logger(DeliveryStore.name);
  private readonly claims: Batcher<string, ClaimedMessage | null>;
  private readonly outcomes: Batcher<AttemptOutcome, boolean>;
  private readonly swaps: Batcher<Swap, SwapResult>;
  /** Set on shutdown: outcome writes stop retrying at this time (ms since epoch). */
  private giveUpAt: number | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly router: SmsRouter,
  ) {
    // Group commit: while a claim (or outcome) statement runs, the next ones gather into one batch
    // instead of each taking a pool connection for a statement of a few rows.
    this.claims = new Batcher((ids) => this.claimMany(ids), MAX_BATCH, MAX_IN_FLIGHT);
    this.outcomes = new Batcher((os) => this.recordMany(os), MAX_BATCH, MAX_IN_FLIGHT);
    this.swaps = new Batcher((xs) => this.recordAndClaimMany(xs), MAX_BATCH, MAX_IN_FLIGHT);
  }

  /**
   * Moves the message to 'sending' for one attempt; null when it is not ours to send. A message
   * of a deactivated tenant is never claimed: it ends 'canceled' (tenant_deactivated) instead.
   */
  claim(id: string): Promise<ClaimedMessage | null> {
    return this.claims.submit(id);
  }

  /**
   * Records an attempt's outcome; false when the row had left 'sending' (e.g. resolved). A
   * provider's answer is a fact: the write is retried with backoff until PostgreSQL takes it (a
   * retry goes alone, so one bad row cannot hold up the others), or until `stopRetryingAt`.
   */
  async record(outcome: AttemptOutcome): Promise<boolean> {
    try {
      return await this.outcomes.submit(outcome);
    } catch (first) {
      let delay = WRITE_RETRY_FIRST_MS;
      let last = first;
      for (;;) {
        this.logger.warn({ messageId: outcome.id, err: String(last) }, 'outcome not written yet; retrying');
        if (this.giveUpAt !== null && Date.now() + delay > this.giveUpAt) throw last;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, WRITE_RETRY_MAX_MS);
        try {
          return (await this.recordMany([outcome]))[0];
        } catch (e) {
          last = e;
        }
      }
    }
  }

  /**
   * Records `outcome` and claims `nextId` in one statement (batched with the other slots'), the
   * hand-over of a worker slot: `recorded` as `record` says, `claimed` as `claim` says. It is not
   * retried: when it throws, the caller records the outcome with `record` (retried; it finds
   * nothing to do if the call did commit) and the next message waits for a claim of its own (a
   * claim whose answer was lost leaves its row 'sending' for the resolver, as `claim` would).
   */
  recordAndClaim(outcome: AttemptOutcome, nextId: string): Promise<SwapResult> {
    return this.swaps.submit({ outcome, nextId });
  }

  /**
   * Records that the message's current attempt is handed to `provider` too, before the worker
   * calls it (a fallback after a retryable failure, or circuits that changed since the claim): one
   * statement of its own, awaited, on this rare path only. With `first` (no provider was called
   * yet in this attempt: the router's plan put another provider first than the claim recorded),
   * `provider` replaces the claim's record instead of joining it. Throws when the write fails or
   * the attempt is no longer the caller's (the row left 'sending', or another claim counted a new
   * attempt): the provider must then not be called. It moves `updated_at`, so a resolver run that
   * read the row before cannot settle it on the shorter list.
   */
  async recordProvider(msg: ClaimedMessage, provider: ProviderName, first = false): Promise<void> {
    const rows: { id: string }[] = await this.ds.query(RECORD_PROVIDER_SQL, [
      msg.id,
      msg.attempts,
      provider,
      this.clock.now(),
      first,
    ]);
    if (rows.length === 0) throw new Error(`the attempt of message ${msg.id} is no longer in progress`);
  }

  /** Of these messages, those still waiting to be handed over ('queued' or 'scheduled'). */
  async waiting(ids: string[]): Promise<string[]> {
    const rows: { id: string }[] = await this.ds.query(WAITING_SQL, [ids]);
    return rows.map((r) => r.id);
  }

  /**
   * The same, with what decides their lane: the campaign, and whether the message's template
   * declares it transactional (a custom type's flag).
   */
  async waitingLanes(ids: string[]): Promise<WaitingLane[]> {
    const rows: {
      id: string;
      tenant_id: number;
      campaign_id: string | null;
      declared: boolean;
      message_type: MessageType;
    }[] = await this.ds.query(WAITING_LANES_SQL, [ids]);
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      campaignId: r.campaign_id,
      declared: r.declared,
      messageType: r.message_type,
    }));
  }

  /** On shutdown: outcome writes still failing at `at` are given up (the row stays 'sending'). */
  stopRetryingAt(at: number): void {
    this.giveUpAt = at;
  }

  /**
   * One call of `sms_claim_messages` (migrations 1764002000000, 1764002200000), whose plan is
   * cached per connection: it looks the ids up by primary key first (a status condition beside it
   * let stale statistics after a big accept scan every queued row), moves queued or due scheduled
   * rows of active tenants to 'sending' with the attempt counted and `attempt_providers` set to
   * the given list, ends those of a deactivated tenant 'canceled', writes their events, and
   * returns the claimed rows.
   */
  private async claimMany(ids: string[]): Promise<(ClaimedMessage | null)[]> {
    const rows: ClaimedRow[] = await this.ds.query(
      'SELECT * FROM sms_claim_messages($1::uuid[], $2::timestamptz, $3::varchar[])',
      [ids, this.clock.now(), this.firstProviders()],
    );
    return claimedInOrder(ids, rows);
  }

  /**
   * What a claim sent now records: the provider the router will call first, peeked without taking
   * a half-open trial; none when every circuit is open (the router will then call nothing).
   */
  private firstProviders(): ProviderName[] {
    const first = this.router.firstUp();
    return first === null ? [] : [first];
  }

  /**
   * One call of `sms_record_outcomes` (migration 1764001800000), one round trip: it takes the
   * receipt locks of the sent messages (the keys a receipt takes before it parks), then, in a
   * statement whose snapshot starts after them, records the outcomes on rows still 'sending',
   * applies receipts parked for them, writes the events and deletes the parked rows. A receipt
   * that parked first is seen; one that comes later waits for the lock and then finds the 'sent'
   * row: none is lost.
   */
  private async recordMany(outcomes: AttemptOutcome[]): Promise<boolean[]> {
    const rows: { id: string }[] = await this.ds.query(
      `SELECT r.id FROM sms_record_outcomes($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[],
         $5::numeric[], $6::varchar[], $7::text[], $8::text[], $9::int[], $10::varchar[],
         $11::timestamptz, $12::varchar[]) AS r(id)`,
      outcomeParams(outcomes, this.clock.now()),
    );
    const done = new Set(rows.map((r) => r.id));
    return outcomes.map((o) => done.has(o.id));
  }

  /**
   * One call of `sms_record_outcomes_and_claim` (migrations 1764002100000, 1764002200000): the
   * outcomes are recorded as `recordMany` does, then the next messages claimed as `claimMany`
   * does, in one transaction and one round trip.
   */
  private async recordAndClaimMany(swaps: Swap[]): Promise<SwapResult[]> {
    const nextIds = swaps.map((x) => x.nextId);
    const rows: (ClaimedRow & { claimed: boolean })[] = await this.ds.query(
      `SELECT * FROM sms_record_outcomes_and_claim($1::uuid[], $2::varchar[], $3::varchar[],
         $4::varchar[], $5::numeric[], $6::varchar[], $7::text[], $8::text[], $9::int[],
         $10::varchar[], $11::timestamptz, $12::varchar[], $13::uuid[], $14::varchar[])`,
      [
        ...outcomeParams(
          swaps.map((x) => x.outcome),
          this.clock.now(),
        ),
        nextIds,
        this.firstProviders(),
      ],
    );
    const recorded = new Set(rows.filter((r) => !r.claimed).map((r) => r.id));
    const claimed = claimedInOrder(
      nextIds,
      rows.filter((r) => r.claimed),
    );
    return swaps.map((x, i) => ({ recorded: recorded.has(x.outcome.id), claimed: claimed[i] }));
  }
}

/** A row `sms_claim_messages` returns. */
interface ClaimedRow {
  id: string;
  tenant_id: number;
  phone_number: string;
  body: string;
  body_ciphertext: string | null;
  message_type: MessageType;
  attempts: number;
  created_at: Date;
  attempt_providers: ProviderName[] | null;
  expires_at: Date | null;
  sender: string | null;
  test_mode: boolean;
  channel?: Channel | null;
  channel_params?: ChannelParams | null;
  whatsapp_mode?: WhatsappMode | null;
}

/** The claimed message for each asked id, in order (null: not claimed; a duplicate id is claimed once). */
function claimedInOrder(ids: string[], rows: ClaimedRow[]): (ClaimedMessage | null)[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const r = byId.get(id);
    if (!r) return null;
    byId.delete(id);
    return {
      id: r.id,
      tenantId: r.tenant_id,
      phoneNumber: r.phone_number,
      body: r.body,
      bodyCiphertext: r.body_ciphertext,
      messageType: r.message_type,
      attempts: r.attempts,
      createdAt: new Date(r.created_at),
      providers: r.attempt_providers ?? [],
      expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
      sender: r.sender,
      testMode: r.test_mode === true,
      channel: r.channel ?? 'sms',
      channelParams: r.channel_params ?? null,
      whatsappMode: r.whatsapp_mode ?? null,
    };
  });
}

/** The first twelve parameters of `sms_record_outcomes` (and of the combined call) for these outcomes. */
function outcomeParams(outcomes: AttemptOutcome[], at: Date): unknown[] {
  const status = (o: AttemptOutcome): MessageStatus =>
    o.outcome === 'sent'
      ? 'sent'
      : o.outcome === 'retry' || o.outcome === 'deferred'
        ? 'queued'
        : o.outcome === 'unknown' || o.outcome === 'expired'
          ? o.outcome
          : 'failed';
  return [
    outcomes.map((o) => o.id),
    outcomes.map(status),
    outcomes.map((o) => (o.outcome === 'sent' ? o.provider : null)),
    outcomes.map((o) => (o.outcome === 'sent' ? o.providerMessageId.slice(0, 100) : null)),
    outcomes.map((o) => (o.outcome === 'sent' && o.cost !== null ? formatMoney(o.cost) : null)),
    outcomes.map((o) => (o.outcome === 'sent' ? null : o.errorCode.slice(0, 100))),
    outcomes.map((o) => (o.outcome === 'sent' ? null : o.errorMessage)),
    outcomes.map((o) => JSON.stringify(o.tried ?? null)),
    outcomes.map((o) => (o.outcome === 'deferred' || (o.outcome === 'expired' && o.untried) ? 1 : 0)),
    outcomes.map((o) => (o.outcome === 'sent' && o.currency ? o.currency.toUpperCase().slice(0, 3) : null)),
    at,
    PARKED_MOVES,
  ];
}
