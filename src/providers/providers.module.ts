import { Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { ReadinessContributor } from '../health/readiness';
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
@Injectable()
export class SmsRouter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SmsRouter.name);
  readonly order: ProviderName[];
  readonly router: ProviderRouter;
  private readonly providers: SmsProvider[];
  /** Call outcomes of this process, for /health/providers. */
  private readonly stats = new ProviderStats(() => Date.now());
  private readonly observers: ProviderObserver[] = [];

  constructor(
    private readonly config: AppConfig,
    private readonly receipts: DeliveryReceipts,
    private readonly readiness: ReadinessContributor,
    private readonly indicator: HealthIndicatorService,
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
    this.readiness.register(async () =>
      this.indicator.check('providers').up({ circuits: this.router.health(), down: this.router.down() }),
    );
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
        return new SandboxProvider({
          latencyMs: c.get('SANDBOX_LATENCY_MS'),
          deliveryDelayMs: c.get('SANDBOX_DELIVERY_DELAY_MS'),
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
  }

  async onApplicationShutdown(): Promise<void> {
    for (const p of this.providers) await p.close?.();
  }
}

@Module({
  providers: [SmsRouter, DeliveryReceipts, SnsNotifications],
  exports: [SmsRouter, DeliveryReceipts, SnsNotifications],
})
export class ProvidersModule {}
