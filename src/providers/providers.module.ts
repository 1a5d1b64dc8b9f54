import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { ReadinessContributor } from '../health/readiness';
import { RedisService } from '../redis/redis.module';
import { ConversionObserver } from '../core/conversion';
import { CODE_MESSAGE_TYPES, ProviderName } from '../core/message-types';
import { countryOfNumber } from '../phone';
import { ProviderRouter, RouteOutcome, SendHooks } from './provider-router';
import { instrument } from './instrument';
import { ProviderActivity, ProviderObserver, ProviderStats } from './provider-stats';
import { DeliveryReceipts } from './receipts';
import { SandboxProvider } from './sandbox/sandbox.provider';
import { UNKNOWN_COUNTRY } from './routing-counters';
import { chooseFirst, defaultNote, FirstChoice, pinFor, TenantRouting, withFirst } from './routing-policy';
import { RoutingConversions } from './routing-conversions';
import { RoutingScores, RoutingSnapshot } from './routing-scores';
import type { Channel } from '../core/channels';
import {
  CircuitsOpenError,
  ProviderError,
  FoundMessage,
  OutboundSms,
  ProviderStatus,
  SentLookup,
  SmsProvider,
} from './sms-provider';
import {
  AccountCredentials,
  AccountProvider,
  OpenAccount,
  ProviderAccountsStore,
  SnsCredentials,
  TwilioCredentials,
} from './accounts/provider-accounts.store';
import { SnsNotifications } from './sns/sns-notifications';
import { SnsProvider } from './sns/sns.provider';
import { TwilioProvider } from './twilio/twilio.provider';
import { providerOrder } from './provider-order';

export { providerOrder };

/** The providers that send each channel (issue 25); SNS sends SMS only. */
export const CHANNEL_PROVIDERS: Record<Channel, readonly ProviderName[]> = {
  sms: ['twilio', 'sns', 'sandbox'],
  whatsapp: ['twilio', 'sandbox'],
  mms: ['twilio', 'sandbox'],
};

/** How often a sending process publishes the providers whose circuit it has open. */
const DOWN_PUBLISH_MS = 2000;
/** Weight of the past in the recent first picks (the claim records the most frequent one). */
const PICK_DECAY = 0.97;
/** How long a tenant's cached account providers are used before their versions are checked again. */
const ACCOUNT_CHECK_MS = 5000;
/** At most this many tenants' account providers are cached (least recently used go first). */
const MAX_CACHED_TENANTS = 1000;
/** A message of a tenant whose accounts cannot be read now waits this long (no attempt spent). */
const ACCOUNT_RETRY_MS = 30_000;

/** A tenant's own provider accounts as providers, with their own router (circuits) in this process. */
interface TenantProviders {
  /** The accounts' ids and versions this was built from. */
  key: string;
  checkedAt: number;
  /** Null: the tenant has no account of its own (it uses the operator's). */
  router: ProviderRouter | null;
  order: ProviderName[];
  providers: SmsProvider[];
  /** account id → its provider */
  byAccount: Map<string, SmsProvider>;
  /** provider name → account id */
  accountOf: Map<ProviderName, string>;
}

/** How one message is routed: its first provider, the order its attempt follows, and why. */
export interface RoutePlan extends FirstChoice {
  /** ISO alpha-2 of the recipient's number (`ZZ`: none); null when adaptive routing is off. */
  country: string | null;
  /**
   * Set when the message's tenant has its own provider account(s): the router of those accounts
   * (the operator's providers are not used), or why they cannot be used now (the send waits).
   */
  tenantAccounts?: { router: ProviderRouter | null; unavailable?: string };
}

/**
 * Builds the configured providers once and routes every send through them: the first provider of
 * each message (a tenant's pin, else adaptive routing by destination country), automatic
 * fallback, circuit breakers. What vendors share lives here, not in each provider.
 *
 * It runs this process's two provider loops (the only periodic work outside the job registry:
 * both refresh this process's own view): publishing its open circuits (sending roles), and
 * exchanging the routing scores with Redis (every role: workers count calls, api processes count
 * receipts, and both read).
 */
@Injectable()
export class SmsRouter implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(SmsRouter.name);
  private publisher?: NodeJS.Timeout;
  private scoring?: NodeJS.Timeout;
  /** Recent first picks, decayed: the claim records the most frequent one (`firstUp`). */
  private readonly picks = new Map<ProviderName, number>();
  readonly order: ProviderName[];
  readonly router: ProviderRouter;
  /**
   * Where test-mode messages go, whatever is configured: a sandbox of their own, never a real
   * provider. Its test numbers' failures are their scripted outcome, not an outage, so its circuit
   * never opens, and its calls stay out of the providers' stats and observers.
   */
  readonly testRouter: ProviderRouter;
  private readonly providers: SmsProvider[];
  private readonly testSandbox: SmsProvider;
  /** Call outcomes of this process, for /health/providers. */
  private readonly stats = new ProviderStats(() => Date.now());
  private readonly observers: ProviderObserver[] = [];
  /** Tenants' own accounts built into providers, by tenant (insertion order: least recent first). */
  private readonly tenantCache = new Map<number, TenantProviders>();
  private readonly tenantLoads = new Map<number, Promise<TenantProviders>>();

  constructor(
    private readonly config: AppConfig,
    private readonly receipts: DeliveryReceipts,
    private readonly readiness: ReadinessContributor,
    private readonly indicator: HealthIndicatorService,
    private readonly redis: RedisService,
    /** The shared routing scores (also what code conversion feeds: `recordConversion`). */
    readonly scores: RoutingScores,
    /** Tenants' own provider accounts (sealed credentials). */
    readonly accounts: ProviderAccountsStore,
  ) {
    this.order = providerOrder(config);
    // Every provider is wrapped by the instrumenting decorator: latency and errors per call.
    this.providers = this.order.map((name) =>
      instrument(this.build(name), (c) => {
        this.stats.record(c);
        for (const o of this.observers) o.call?.(c);
      }),
    );
    this.router = new ProviderRouter(
      this.providers,
      {
        failureThreshold: config.get('SMS_CIRCUIT_FAILURE_THRESHOLD'),
        cooldownMs: config.get('SMS_CIRCUIT_COOLDOWN_MS'),
        now: () => Date.now(),
      },
      (provider, open) => {
        const change = { provider, open, at: new Date() };
        for (const o of this.observers) {
          try {
            o.circuit?.(change);
          } catch (e) {
            this.logger.warn(`circuit observer failed: ${String(e)}`);
          }
        }
      },
    );
    this.testSandbox = this.sandbox();
    this.testRouter = new ProviderRouter([this.testSandbox], {
      failureThreshold: Number.POSITIVE_INFINITY,
      cooldownMs: 0,
      now: () => Date.now(),
    });
  }

  /** The router a message goes through: the test-mode sandbox for a test-mode message. */
  routerFor(testMode: boolean): ProviderRouter {
    return testMode ? this.testRouter : this.router;
  }

  /** Subscribes to provider calls and circuit changes (monitoring); listeners must not throw. */
  observe(observer: ProviderObserver): void {
    this.observers.push(observer);
  }

  /** Each provider's circuit and this process's recent call outcomes (GET /health/providers). */
  providerHealth(): {
    provider: ProviderName;
    circuit: ReturnType<ProviderRouter['health']>[string];
    activity: ProviderActivity;
  }[] {
    const circuits = this.router.health();
    return this.order.map((provider) => ({
      provider,
      circuit: circuits[provider],
      activity: this.stats.activity(provider),
    }));
  }

  onModuleInit(): void {
    this.logger.log(`providers in order: ${this.order.join(', ')}`);
    // Circuits show in readiness details and make it `degraded` (still 200: the service accepts
    // and queues), never unready: a provider outage must not take the API out of the balancer.
    // Circuits live in the processes that send (worker role): each publishes the providers it
    // sees down, so an api replica's readiness reports them too.
    this.readiness.register(async () =>
      this.indicator
        .check('providers')
        .up({ circuits: this.router.health(), down: await this.downAnywhere() }),
    );
    if (this.config.runsWorker()) {
      this.publisher = setInterval(() => void this.publishDown(), DOWN_PUBLISH_MS);
      this.publisher.unref();
    }
    if (this.scores.adaptive) {
      void this.scores.refresh();
      this.scoring = setInterval(() => void this.scores.refresh(), this.scores.refreshMs);
      this.scoring.unref();
    }
  }

  /**
   * Routes one message: a pin of its tenant (`routing.pin_by_type[type]`, else `routing.pin`)
   * puts that provider first; otherwise adaptive routing draws the first provider from the shares
   * of the recipient's country (the configured order when nothing is degraded, or when the scores
   * are off or stale). A first provider whose circuit is open is passed over, as the router would.
   * The rest follow in the configured order: fallback is unchanged. Cheap: no I/O.
   */
  plan(sms: Pick<OutboundSms, 'to' | 'messageType'>, routing?: TenantRouting | null): RoutePlan {
    const head = this.order[0];
    const country = this.scores.adaptive ? (countryOfNumber(sms.to) ?? UNKNOWN_COUNTRY) : null;
    const pin = pinFor(routing, sms.messageType);
    let choice: FirstChoice;
    if (pin && this.order.includes(pin.provider)) {
      const by = pin.by === 'type' ? `for ${sms.messageType}` : 'by the tenant';
      choice = {
        first: pin.provider,
        order: withFirst(this.order, pin.provider),
        note: `routed to ${pin.provider}: pinned ${by}`,
        kind: 'pinned',
      };
    } else if (pin) {
      const note = defaultNote(head, `default order (the pinned ${pin.provider} is not configured)`);
      choice = { first: head, order: [...this.order], note, kind: 'default' };
    } else if (!this.scores.adaptive || this.order.length < 2) {
      choice = { first: head, order: this.order, note: defaultNote(head), kind: 'default' };
    } else {
      const shares = this.scores.routing(country);
      choice = shares
        ? chooseFirst(this.order, shares, Math.random())
        : {
            first: head,
            order: this.order,
            note: defaultNote(head, 'default order (routing scores unavailable)'),
            kind: 'default',
          };
    }
    if (!this.router.allows(choice.first)) {
      const up = this.router.firstUp(choice.order);
      if (up) {
        const pinned =
          choice.kind === 'pinned' ? ` (${choice.note.slice(choice.note.indexOf(': ') + 2)})` : '';
        choice = { ...choice, first: up, note: `routed to ${up}: ${choice.first} circuit open${pinned}` };
      } else {
        choice = { ...choice, note: "not routed: every provider's circuit is open" };
      }
    }
    this.countPick(choice.first);
    return { ...choice, country };
  }

  /**
   * Routes one message of a tenant (what the worker calls): a tenant with its own provider
   * account(s) goes through those only, in the order twilio, sns (a pin of one of them puts it
   * first; adaptive routing is the operator's and does not apply); any other tenant as `plan`.
   * When the tenant's accounts cannot be read now (database, missing key), the plan says so and
   * `send` makes the message wait: it is never sent through the operator's account instead.
   */
  async planFor(
    tenantId: number,
    sms: Pick<OutboundSms, 'to' | 'messageType'>,
    routing?: TenantRouting | null,
  ): Promise<RoutePlan> {
    let own: TenantProviders | null;
    try {
      own = await this.tenantProviders(tenantId);
    } catch (e) {
      this.logger.warn({ tenantId, err: String(e) }, "tenant's provider accounts cannot be read");
      const first = this.order[0];
      return {
        first,
        order: [first],
        note: "not routed: the tenant's provider account cannot be read now",
        kind: 'default',
        country: null,
        tenantAccounts: {
          router: null,
          unavailable: `the tenant's provider account cannot be read (${(e instanceof Error ? e.message : String(e)).slice(0, 200)})`,
        },
      };
    }
    if (!own?.router) return this.plan(sms, routing);
    const pin = pinFor(routing, sms.messageType);
    const order = pin && own.order.includes(pin.provider) ? withFirst(own.order, pin.provider) : own.order;
    const up = own.router.firstUp(order);
    const first = up ?? order[0];
    const note = up
      ? `routed to ${first}: the tenant's own account`
      : "not routed: every circuit of the tenant's own accounts is open";
    return {
      first,
      order,
      note,
      kind: pin ? 'pinned' : 'default',
      country: null,
      tenantAccounts: { router: own.router },
    };
  }

  /** The tenant's own accounts as providers (cached; rebuilt when an account changed), or null. */
  private async tenantProviders(tenantId: number): Promise<TenantProviders | null> {
    const hit = this.tenantCache.get(tenantId);
    if (hit && Date.now() - hit.checkedAt < ACCOUNT_CHECK_MS) return hit.router ? hit : null;
    let load = this.tenantLoads.get(tenantId);
    if (!load) {
      load = this.loadTenant(tenantId, hit).finally(() => this.tenantLoads.delete(tenantId));
      this.tenantLoads.set(tenantId, load);
    }
    const entry = await load;
    return entry.router ? entry : null;
  }

  private async loadTenant(tenantId: number, hit: TenantProviders | undefined): Promise<TenantProviders> {
    const versions = await this.accounts.versions(tenantId);
    const key = versions.map((v) => `${v.id}:${v.version}`).join(',');
    if (hit && hit.key === key) {
      hit.checkedAt = Date.now();
      this.tenantCache.delete(tenantId);
      this.tenantCache.set(tenantId, hit);
      return hit;
    }
    const entry: TenantProviders = {
      key,
      checkedAt: Date.now(),
      router: null,
      order: [],
      providers: [],
      byAccount: new Map(),
      accountOf: new Map(),
    };
    if (versions.length > 0) {
      const open = await this.accounts.open(tenantId);
      for (const a of open) {
        const p = this.buildAccount(a);
        entry.providers.push(p);
        entry.order.push(p.name);
        entry.byAccount.set(a.id, p);
        entry.accountOf.set(p.name, a.id);
      }
      entry.router = new ProviderRouter(
        entry.providers,
        {
          failureThreshold: this.config.get('SMS_CIRCUIT_FAILURE_THRESHOLD'),
          cooldownMs: this.config.get('SMS_CIRCUIT_COOLDOWN_MS'),
          now: () => Date.now(),
        },
        (provider, open) =>
          this.logger.warn(
            { tenantId, provider, account: entry.accountOf.get(provider), open },
            open
              ? "tenant's own provider account circuit opened"
              : "tenant's own provider account circuit closed",
          ),
      );
    }
    const old = this.tenantCache.get(tenantId);
    this.tenantCache.delete(tenantId);
    if (old && old !== entry) this.retire(old);
    this.tenantCache.set(tenantId, entry);
    while (this.tenantCache.size > MAX_CACHED_TENANTS) {
      const [oldest, e] = this.tenantCache.entries().next().value as [number, TenantProviders];
      this.tenantCache.delete(oldest);
      this.retire(e);
    }
    return entry;
  }

  /** Closes a replaced entry's providers once calls in flight on them are surely over. */
  private retire(e: TenantProviders): void {
    if (e.providers.length === 0) return;
    const t = setTimeout(() => {
      for (const p of e.providers) void Promise.resolve(p.close?.()).catch(() => undefined);
    }, 120_000);
    t.unref();
  }

  /**
   * The provider of one tenant account (its webhooks carry `?account=<id>`), or undefined when no
   * such account exists or it cannot be read.
   */
  async accountProvider(accountId: string): Promise<SmsProvider | undefined> {
    const tenantId = await this.accounts.tenantOf(accountId);
    if (tenantId === null) return undefined;
    const own = await this.tenantProviders(tenantId).catch(() => null);
    return own?.byAccount.get(accountId);
  }

  /** This process's circuit of each of a tenant's own accounts (provider → circuit), {} when none. */
  async accountCircuits(
    tenantId: number,
  ): Promise<Record<string, ReturnType<ProviderRouter['health']>[string]>> {
    const own = await this.tenantProviders(tenantId).catch(() => null);
    return own?.router ? own.router.health() : {};
  }

  /**
   * Checks credentials with a harmless read (Twilio: the account resource; SNS: GetSMSAttributes)
   * before they are saved. Throws the provider's classified error.
   */
  async checkCredentials(provider: AccountProvider, credentials: AccountCredentials): Promise<void> {
    const p = this.buildAccount({ id: 'check', tenantId: 0, provider, version: 0, credentials });
    try {
      await p.checkAccount?.();
    } finally {
      await p.close?.();
    }
  }

  /** The provider client of a tenant's own account (its own credentials, and its webhook URL). */
  private buildAccount(a: OpenAccount): SmsProvider {
    const c = this.config;
    const timeoutMs = c.get('SMS_PROVIDER_TIMEOUT_MS');
    if (a.provider === 'twilio') {
      const t = a.credentials as TwilioCredentials;
      return new TwilioProvider({
        accountSid: t.account_sid,
        authToken: t.auth_token,
        from: t.phone_number,
        messagingServiceSid: t.messaging_service_sid,
        apiBaseUrl: c.get('TWILIO_API_BASE_URL'),
        // The account in the URL: its callbacks are verified with its own token.
        statusCallbackUrl: `${c.get('PUBLIC_BASE_URL')}/api/sms/webhooks/twilio/status?account=${a.id}`,
        timeoutMs,
      });
    }
    const s = a.credentials as SnsCredentials;
    return new SnsProvider({
      region: s.region,
      accessKeyId: s.access_key_id,
      secretAccessKey: s.secret_access_key,
      endpoint: c.get('AWS_SNS_ENDPOINT'),
      timeoutMs,
      defaultSender: s.origination_identity,
    });
  }

  /**
   * Sends through the providers in the plan's order (fallback and circuits as ProviderRouter
   * does), and counts each call towards the routing scores of the plan's country.
   */
  send(sms: OutboundSms, plan: RoutePlan, hooks: SendHooks = {}): Promise<RouteOutcome> {
    // channels (issue 25): WhatsApp and MMS go only to a provider that sends them (Twilio): no SNS
    // fallback for them. None configured: a permanent failure, nothing called.
    if (sms.channel && sms.channel !== 'sms') {
      const order = plan.order.filter((p) => CHANNEL_PROVIDERS[sms.channel as Channel].includes(p));
      if (order.length === 0)
        return Promise.reject(
          new ProviderError(
            plan.first,
            'permanent',
            'channel_unavailable',
            `no configured provider sends ${sms.channel} (Twilio only)`,
          ),
        );
      plan = { ...plan, order, first: order.includes(plan.first) ? plan.first : order[0] };
    }
    const own = plan.tenantAccounts;
    if (own) {
      // A tenant's own accounts: their own circuits; the operator's routing scores are not fed.
      if (!own.router)
        return Promise.reject(
          new CircuitsOpenError(Date.now() + ACCOUNT_RETRY_MS, {
            provider: plan.first,
            code: 'account_unavailable',
            message: own.unavailable ?? "the tenant's provider account cannot be used now",
          }),
        );
      return own.router.send(sms, hooks, { order: plan.order });
    }
    const { country } = plan;
    const code = CODE_MESSAGE_TYPES.includes(sms.messageType);
    return this.router.send(sms, hooks, {
      order: plan.order,
      onCall:
        country === null
          ? undefined
          : (provider, outcome, ms) => this.scores.recordCall(provider, country, outcome, ms, code),
    });
  }

  /** Adaptive routing as the operator sees it (GET /health/providers, /metrics). */
  routing(limit?: number): RoutingSnapshot {
    return this.scores.snapshot(limit);
  }

  private countPick(provider: ProviderName): void {
    for (const [p, n] of this.picks) this.picks.set(p, n * PICK_DECAY);
    this.picks.set(provider, (this.picks.get(provider) ?? 0) + 1);
  }

  async beforeApplicationShutdown(): Promise<void> {
    // The last counts of this process go to Redis while it is still connected.
    if (this.scoring) clearInterval(this.scoring);
    this.scoring = undefined;
    await this.scores.refresh();
  }

  private downKey(provider: ProviderName): string {
    return this.redis.key('providers', 'down', provider);
  }

  /** Marks this process's open circuits in Redis for a few publish periods; never throws. */
  private async publishDown(): Promise<void> {
    const down = this.router.down().map((p) => this.downKey(p));
    // Tenants' own accounts under keys of their own: never the operator's provider's key.
    for (const e of this.tenantCache.values())
      for (const p of e.router?.down() ?? [])
        down.push(this.redis.key('providers', 'down', 'account', e.accountOf.get(p) ?? p));
    if (down.length === 0 || !this.redis.isUp()) return;
    const ttl = DOWN_PUBLISH_MS * 3;
    await Promise.all(down.map((k) => this.redis.client.set(k, '1', 'PX', ttl))).catch(() => undefined);
  }

  /** Providers down here or in any sending process (as published in Redis; local only without it). */
  async downAnywhere(): Promise<ProviderName[]> {
    const local = this.router.down();
    if (!this.redis.isUp()) return local;
    // One GET per flag, not an MGET: the flags live in different Redis Cluster slots (one round
    // trip still, auto-pipelined).
    // A flag whose slot's master has gone is not read (it would wait out the bound): unknown.
    const flags = await Promise.all(
      this.order.map((p) => {
        const key = this.downKey(p);
        return this.redis.refusalFor(key) ? null : this.redis.inTime(this.redis.client.get(key));
      }),
    ).catch(() => [] as (string | null)[]);
    return this.order.filter((p, i) => local.includes(p) || flags[i] === '1');
  }

  /** A configured provider by name (webhooks hand their requests to it), or undefined. */
  provider(name: string): SmsProvider | undefined {
    return this.providers.find((p) => p.name === name);
  }

  /** Messages the provider holds for a lookup, or null when it cannot be asked (SNS). */
  async findSent(
    provider: ProviderName,
    lookup: SentLookup,
    tenantId?: number,
  ): Promise<FoundMessage[] | null> {
    const p = await this.providerFor(provider, tenantId);
    return p?.findSent ? p.findSent(lookup) : null;
  }

  /**
   * The provider to ask about a message: the tenant's own account of that provider when the tenant
   * (given) has one, else the operator's. Throws when the tenant's accounts cannot be read (asking
   * the operator's account instead would wrongly find nothing).
   */
  private async providerFor(provider: ProviderName, tenantId?: number): Promise<SmsProvider | undefined> {
    if (tenantId !== undefined) {
      const own = await this.tenantProviders(tenantId);
      if (own) return own.providers.find((x) => x.name === provider);
    }
    return this.providers.find((x) => x.name === provider);
  }

  /** Providers whose API can be asked for a message's status (for reconciliation). */
  statusProviders(): ProviderName[] {
    return this.providers.filter((p) => p.fetchStatus).map((p) => p.name);
  }

  /** The provider's current word on a message, or null when it cannot be asked. */
  async fetchStatus(
    provider: ProviderName,
    providerMessageId: string,
    tenantId?: number,
  ): Promise<ProviderStatus | null> {
    const p = await this.providerFor(provider, tenantId);
    return p?.fetchStatus ? p.fetchStatus(providerMessageId) : null;
  }

  /**
   * The provider a send starting now most likely calls first (what the claim records on the row):
   * the one most recent plans put first, when its circuit lets a request through; else the first
   * up in the configured order; null when every circuit is open. A peek that takes no half-open
   * trial. A message whose own plan differs has its first provider recorded before the call
   * (DeliveryStore.recordProvider), so the guess costs only that write when it is wrong.
   */
  firstUp(): ProviderName | null {
    let likely: ProviderName | null = null;
    let most = 0;
    for (const [p, n] of this.picks) {
      if (n > most && this.router.allows(p)) {
        likely = p;
        most = n;
      }
    }
    return likely ?? this.router.firstUp();
  }

  /** The provider expected to carry a message: the first whose circuit is not open. */
  primary(): ProviderName {
    const health = this.router.health();
    return this.order.find((p) => health[p]?.state !== 'open') ?? this.order[0];
  }

  private build(name: ProviderName): SmsProvider {
    const c = this.config;
    const timeoutMs = c.get('SMS_PROVIDER_TIMEOUT_MS');
    switch (name) {
      case 'twilio':
        return new TwilioProvider({
          accountSid: c.get('TWILIO_ACCOUNT_SID') ?? '',
          authToken: c.get('TWILIO_AUTH_TOKEN') ?? '',
          from: c.get('TWILIO_PHONE_NUMBER'),
          messagingServiceSid: c.get('TWILIO_MESSAGING_SERVICE_SID'),
          apiBaseUrl: c.get('TWILIO_API_BASE_URL'),
          statusCallbackUrl: `${c.get('PUBLIC_BASE_URL')}/api/sms/webhooks/twilio/status`,
          timeoutMs,
          whatsappFrom: c.get('TWILIO_WHATSAPP_FROM'),
        });
      case 'sns':
        return new SnsProvider({
          region: c.get('AWS_REGION'),
          accessKeyId: c.get('AWS_ACCESS_KEY_ID') ?? '',
          secretAccessKey: c.get('AWS_SECRET_ACCESS_KEY') ?? '',
          endpoint: c.get('AWS_SNS_ENDPOINT'),
          timeoutMs,
        });
      case 'sandbox':
        return this.sandbox();
    }
  }

  /** A sandbox whose receipts come back in-process, through the receipts bus. */
  private sandbox(): SandboxProvider {
    const c = this.config;
    return new SandboxProvider({
      latencyMs: c.get('SANDBOX_LATENCY_MS'),
      deliveryDelayMs: c.get('SANDBOX_DELIVERY_DELAY_MS'),
      slowReceiptMs: c.get('SANDBOX_SLOW_RECEIPT_MS'),
      onDeliveryReceipt: (providerMessageId, status, errorCode) => {
        this.receipts
          .publish({
            provider: 'sandbox',
            providerMessageId,
            status,
            providerStatus: status,
            errorCode,
            source: 'sandbox',
          })
          .catch((e: unknown) => this.logger.warn(`sandbox receipt not applied: ${String(e)}`));
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.publisher) clearInterval(this.publisher);
    if (this.scoring) clearInterval(this.scoring);
    for (const p of [...this.providers, this.testSandbox]) await p.close?.();
    for (const e of this.tenantCache.values()) for (const p of e.providers) await p.close?.();
    this.tenantCache.clear();
  }
}

@Module({
  providers: [
    SmsRouter,
    DeliveryReceipts,
    SnsNotifications,
    RoutingScores,
    ProviderAccountsStore,
    // Messaging tells the ConversionObserver port of every code entered correctly: routing scores it.
    RoutingConversions,
    { provide: ConversionObserver, useExisting: RoutingConversions },
  ],
  exports: [
    SmsRouter,
    DeliveryReceipts,
    SnsNotifications,
    RoutingScores,
    ConversionObserver,
    ProviderAccountsStore,
  ],
})
export class ProvidersModule {}
