import { Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { ReadinessContributor } from '../health/readiness';
import { RedisService } from '../redis/redis.module';
import { ProviderName } from '../core/message-types';
import { ProviderRouter } from './provider-router';
import { instrument } from './instrument';
import { ProviderActivity, ProviderObserver, ProviderStats } from './provider-stats';
import { DeliveryReceipts } from './receipts';
import { SandboxProvider } from './sandbox/sandbox.provider';
import { FoundMessage, ProviderStatus, SentLookup, SmsProvider } from './sms-provider';
import { SnsNotifications } from './sns/sns-notifications';
import { SnsProvider } from './sns/sns.provider';
import { TwilioProvider } from './twilio/twilio.provider';

/** Which providers are configured, in the order they are tried. Pure, for tests and docs. */
export function providerOrder(config: AppConfig): ProviderName[] {
  const twilio = Boolean(config.get('TWILIO_ACCOUNT_SID') && config.get('TWILIO_AUTH_TOKEN'));
  const sns = Boolean(config.get('AWS_ACCESS_KEY_ID') && config.get('AWS_SECRET_ACCESS_KEY'));
  const explicit = config.get('SMS_PROVIDERS');
  if (explicit) {
    for (const name of explicit) {
      if (name === 'twilio' && !twilio)
        throw new Error('SMS_PROVIDERS names twilio but TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are not set');
      if (name === 'sns' && !sns)
        throw new Error('SMS_PROVIDERS names sns but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set');
    }
    return explicit;
  }
  const order: ProviderName[] = [];
  if (twilio) order.push('twilio');
  if (sns) order.push('sns');
  return order.length ? order : ['sandbox'];
}

/**
 * Builds the configured providers once and routes every send through them: order, automatic
 * fallback, circuit breakers. What vendors share lives here, not in each provider.
 */
/** How often a sending process publishes the providers whose circuit it has open. */
const DOWN_PUBLISH_MS = 2000;

@Injectable()
export class SmsRouter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SmsRouter.name);
  private publisher?: NodeJS.Timeout;
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

  constructor(
    private readonly config: AppConfig,
    private readonly receipts: DeliveryReceipts,
    private readonly readiness: ReadinessContributor,
    private readonly indicator: HealthIndicatorService,
    private readonly redis: RedisService,
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
  }

  private downKey(provider: ProviderName): string {
    return this.redis.key('providers', 'down', provider);
  }

  /** Marks this process's open circuits in Redis for a few publish periods; never throws. */
  private async publishDown(): Promise<void> {
    const down = this.router.down();
    if (down.length === 0 || !this.redis.isUp()) return;
    const ttl = DOWN_PUBLISH_MS * 3;
    await Promise.all(down.map((p) => this.redis.client.set(this.downKey(p), '1', 'PX', ttl))).catch(
      () => undefined,
    );
  }

  /** Providers down here or in any sending process (as published in Redis; local only without it). */
  async downAnywhere(): Promise<ProviderName[]> {
    const local = this.router.down();
    if (!this.redis.isUp()) return local;
    const flags = await this.redis.client.mget(...this.order.map((p) => this.downKey(p))).catch(() => []);
    return this.order.filter((p, i) => local.includes(p) || flags[i] === '1');
  }

  /** A configured provider by name (webhooks hand their requests to it), or undefined. */
  provider(name: string): SmsProvider | undefined {
    return this.providers.find((p) => p.name === name);
  }

  /** Messages the provider holds for a lookup, or null when it cannot be asked (SNS). */
  async findSent(provider: ProviderName, lookup: SentLookup): Promise<FoundMessage[] | null> {
    const p = this.providers.find((x) => x.name === provider);
    return p?.findSent ? p.findSent(lookup) : null;
  }

  /** Providers whose API can be asked for a message's status (for reconciliation). */
  statusProviders(): ProviderName[] {
    return this.providers.filter((p) => p.fetchStatus).map((p) => p.name);
  }

  /** The provider's current word on a message, or null when it cannot be asked. */
  async fetchStatus(provider: ProviderName, providerMessageId: string): Promise<ProviderStatus | null> {
    const p = this.providers.find((x) => x.name === provider);
    return p?.fetchStatus ? p.fetchStatus(providerMessageId) : null;
  }

  /**
   * The provider a send starting now would call first, or null when every circuit is open; a
   * peek that takes no half-open trial (ProviderRouter.firstUp).
   */
  firstUp(): ProviderName | null {
    return this.router.firstUp();
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
    for (const p of [...this.providers, this.testSandbox]) await p.close?.();
  }
}

@Module({
  providers: [SmsRouter, DeliveryReceipts, SnsNotifications],
  exports: [SmsRouter, DeliveryReceipts, SnsNotifications],
})
export class ProvidersModule {}
