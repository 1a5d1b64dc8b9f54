import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bull';
import type { Queue } from 'bull';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isBuiltInMessageType } from '../core';
import { ReplicaReads } from '../database/replica-reads';
import { DELIVERY_QUEUES, LedgerQueries, MessageCount, RECENT_MESSAGES_GAUGE } from '../messaging';
import { SmsRouter } from '../providers';
import { REDIS_PING_TIMEOUT_MS, RedisService } from '../redis/redis.module';

/**
 * The Bull queues of other features whose depth is exported. Their names are spelled here, not
 * imported from jobs and campaigns. The delivery queues (every shard's) come from messaging
 * (DELIVERY_QUEUES).
 */
export const MONITORED_QUEUES = {
  campaigns: 'sms-campaigns',
  jobs: 'sms-jobs',
} as const;

/** Messages are counted over this window at scrape time (see MetricsService). */
export const MESSAGE_WINDOW_MINUTES = 15;
/** A scrape reuses the message counts of the last this many milliseconds (several scrapers). */
const MESSAGE_CACHE_MS = 10_000;

const CIRCUIT_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * The Prometheus registry of this process (its own registry, not prom-client's global one, so
 * several apps in one test process do not collide). Labels carry only values the operator controls:
 * never a tenant, a user, a phone number or a name a tenant chose (a custom message type is
 * `custom`), so /metrics leaks no tenant's data and a tenant cannot mint label values without
 * limit: provider, built-in message type, status, error code, queue, route pattern.
 *
 * Messages by provider, type and status are a gauge computed at scrape time by one grouped SQL
 * over the messages accepted in the last MESSAGE_WINDOW_MINUTES (index on created_at): exact and
 * cluster-wide whichever replica sends or receives the receipt, with no hook in the delivery
 * path. Provider calls (the instrumenting decorator) and HTTP requests are true counters of
 * this process.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  private readonly logger = new Logger(MetricsService.name);
  readonly registry = new Registry();
  private messagesCache: { at: number; rows: MessageCount[] } | null = null;

  readonly httpDuration = new Histogram({
    name: 'sms_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly providerLatency = new Histogram({
    name: 'sms_provider_request_duration_seconds',
    help: 'provider send call duration by provider and outcome (ok, retryable, permanent, timeout)',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly providerErrors = new Counter({
    name: 'sms_provider_errors_total',
    help: 'provider send calls that failed, by provider and error code',
    labelNames: ['provider', 'code'] as const,
    registers: [this.registry],
  });
  readonly circuitTransitions = new Counter({
    name: 'sms_provider_circuit_transitions_total',
    help: 'provider circuits that opened (state=open) or closed again (state=closed)',
    labelNames: ['provider', 'state'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly ledger: LedgerQueries,
    private readonly router: SmsRouter,
    @Inject(DELIVERY_QUEUES) private readonly deliveryQueues: Queue[],
    @InjectQueue(MONITORED_QUEUES.campaigns) private readonly campaignsQueue: Queue,
    @InjectQueue(MONITORED_QUEUES.jobs) private readonly jobsQueue: Queue,
    private readonly replica: ReplicaReads,
    private readonly redis: RedisService,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'sms_' });
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client binds `this` to the gauge in collect()
    const self = this;
    new Gauge({
      name: 'sms_redis_masters',
      help: `Redis masters by whether they answered a PING within ${REDIS_PING_TIMEOUT_MS} ms at scrape time (one Redis is one master). On a Redis Cluster a master down leaves readiness at 200 (degraded): alert on state="down" staying above 0`,
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const { up, down } = await self.redis.masters(REDIS_PING_TIMEOUT_MS);
        this.set({ state: 'up' }, up.length);
        this.set({ state: 'down' }, down.length);
      },
    });
    new Gauge({
      name: 'sms_provider_circuit_state',
      help: 'provider circuit state in this process: 0 closed, 1 half_open, 2 open',
      labelNames: ['provider'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [provider, c] of Object.entries(self.router.router.health()))
          this.set({ provider }, CIRCUIT_VALUE[c.state]);
      },
    });
    // Adaptive routing, cluster-wide (the shared scores as this process last read them). Countries
    // are the 20 busiest destinations of the windows plus `*` (every destination): bounded.
    new Gauge({
      name: 'sms_routing_first_share',
      help: 'adaptive routing: share of first attempts a provider gets now, per destination country (* = every destination)',
      labelNames: ['provider', 'country'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of self.router.routing().destinations)
          for (const s of d.routing.shares) this.set({ provider: s.provider, country: d.country }, s.share);
      },
    });
    new Gauge({
      name: 'sms_routing_score',
      help: 'adaptive routing: provider score per destination country, 1 healthy .. 0 fully degraded (* = every destination)',
      labelNames: ['provider', 'country'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of self.router.routing().destinations)
          for (const a of d.routing.providers)
            this.set({ provider: a.provider, country: d.country }, a.score);
      },
    });
    new Gauge({
      name: 'sms_routing_scores_available',
      help: 'adaptive routing: 1 while the shared scores are fresh in this process; 0: messages take the configured order',
      registers: [this.registry],
      collect() {
        this.set(self.router.routing().available ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sms_queue_jobs',
      help: 'Bull jobs per queue and state (waiting, active, delayed, failed), read at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const q of [...self.deliveryQueues, self.campaignsQueue, self.jobsQueue]) {
          try {
            const c = await q.getJobCounts();
            for (const state of ['waiting', 'active', 'delayed', 'failed'] as const)
              this.set({ queue: q.name, state }, c[state]);
          } catch (e) {
            self.logger.warn({ queue: q.name, err: String(e) }, 'queue depth not read');
          }
        }
      },
    });
    new Gauge({
      name: RECENT_MESSAGES_GAUGE,
      help: `messages accepted in the last ${MESSAGE_WINDOW_MINUTES} minutes by provider (none before handover), message type and current status (cluster-wide)`,
      labelNames: ['provider', 'type', 'status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          // Adds up: every custom type shares the one label value `custom`.
          for (const r of await self.messageCounts())
            this.inc({ provider: r.provider, type: typeLabel(r.type), status: r.status }, r.count);
        } catch (e) {
          self.logger.warn({ err: String(e) }, 'message counts not read');
        }
      },
    });
  }

  /**
   * The read replica (only with DATABASE_READ_URL), from this process's last check (made again at
   * scrape time when older than DATABASE_READ_CHECK_INTERVAL_MS): how far behind it is and whether
   * reads go to it now.
   */
  private registerReplicaGauges(): void {
    const replica = this.replica;
    new Gauge({
      name: 'sms_db_replica_lag_seconds',
      help: 'read replica: how stale a read on it would be (time since the primary was where the replica has replayed to); absent until measured',
      registers: [this.registry],
      async collect() {
        this.reset();
        const { lagMs } = await replica.fresh();
        if (lagMs !== null) this.set(lagMs / 1000);
      },
    });
    new Gauge({
      name: 'sms_db_replica_lag_bytes',
      help: 'read replica: WAL bytes the primary wrote that the replica has not replayed; absent until measured',
      registers: [this.registry],
      async collect() {
        this.reset();
        const { lagBytes } = await replica.fresh();
        if (lagBytes !== null) this.set(lagBytes);
      },
    });
    new Gauge({
      name: 'sms_db_replica_serving',
      help: 'read replica: 1 while history, stats, reports and exports are read on it; 0 while they fall back to the primary (down or lagging past DATABASE_READ_MAX_LAG_MS)',
      registers: [this.registry],
      async collect() {
        this.set((await replica.fresh()).status === 'replica' ? 1 : 0);
      },
    });
  }

  onModuleInit(): void {
    if (this.replica.configured) this.registerReplicaGauges();
    this.router.observe({
      call: (c) => {
        this.providerLatency.observe({ provider: c.provider, outcome: c.outcome }, c.ms / 1000);
        if (c.outcome !== 'ok') this.providerErrors.inc({ provider: c.provider, code: c.code ?? c.outcome });
      },
      circuit: (c) =>
        this.circuitTransitions.inc({ provider: c.provider, state: c.open ? 'open' : 'closed' }),
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async messageCounts(): Promise<MessageCount[]> {
    const now = Date.now();
    if (this.messagesCache && now - this.messagesCache.at < MESSAGE_CACHE_MS) return this.messagesCache.rows;
    const rows = await this.ledger.recentCounts(MESSAGE_WINDOW_MINUTES);
    this.messagesCache = { at: now, rows };
    return rows;
  }
}

/** The `type` label of a message type: a built-in one as is; every custom type (named by a tenant) is `custom`. */
export function typeLabel(type: string): string {
  return isBuiltInMessageType(type) ? type : 'custom';
}
