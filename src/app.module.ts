import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { BullModule } from '@nestjs/bull';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from './auth/auth.module';
import { JwtAuthGuard, RolesGuard } from './auth/guards';
import { RequestRateGuard } from './auth/request-rate.guard';
import { ClockModule } from './common/clock.module';
import { AppExceptionFilter } from './common/exception.filter';
import { RequestTextGuard } from './common/request-text.guard';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source';
import { HealthModule } from './health/health.module';
import { JobsModule, JobsWorkerModule } from './jobs';
import { LoggingModule } from './logging/logging.module';
import { MessagingModule, MessagingWorkerModule } from './messaging';
import { PhoneModule } from './phone';
import { ProviderAccountsModule, ProvidersModule } from './providers';
import { BullConnections, RedisModule } from './redis/redis.module';
import { AppointmentsModule } from './appointments';
import { AnalyticsModule } from './analytics';
import { AuditModule } from './audit';
import { CallbacksModule } from './callbacks';
import { CampaignsModule, CampaignsWorkerModule } from './campaigns';
import { SmsSdkModule } from './sdk';
import { TemplatesModule } from './templates';
import { VerificationModule } from './verification';
import { TenancyModule, TenantGuard } from './tenancy';
import { WebhooksModule } from './webhooks';
import { MonitoringModule, MonitoringWorkerModule } from './monitoring';
import { DashboardModule } from './dashboard';
import { PrivacyModule, PrivacyWorkerModule } from './privacy';

/**
 * The whole service. `APP_ROLE` decides what runs: the api role serves HTTP, the worker role
 * runs queue processors and the registry's jobs on their schedules, `all` does both (laptops and
 * tests). `oneShot` (the `npm run job` CLI) loads the jobs without schedules, queue processors,
 * HTTP or the worker's metrics port, to run one job and exit.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, opts: { oneShot?: boolean } = {}): DynamicModule {
    const worker = config.runsWorker() && !opts.oneShot;
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ClockModule,
        LoggingModule,
        TypeOrmModule.forRoot({
          ...dataSourceOptions(config.get('DATABASE_URL'), config.get('DATABASE_POOL_SIZE'), {
            acquireTimeoutMs: config.get('DATABASE_ACQUIRE_TIMEOUT_MS'),
            statementTimeoutMs: config.get('DATABASE_STATEMENT_TIMEOUT_MS'),
          }),
          migrationsRun: false,
          // Each feature registers its own entities (TypeOrmModule.forFeature).
          autoLoadEntities: true,
        }),
        // Bull's connections: a single Redis, or cluster clients (REDIS_CLUSTER_NODES).
        BullModule.forRootAsync({
          inject: [BullConnections],
          useFactory: (connections: BullConnections) => connections.rootOptions(),
        }),
        ...(worker ? [JobsWorkerModule, MonitoringWorkerModule] : opts.oneShot ? [JobsModule] : []),
        RedisModule,
        HealthModule,
        AuthModule,
        AuditModule,
        TenancyModule,
        PhoneModule,
        ProvidersModule,
        ProviderAccountsModule,
        MessagingModule,
        ...(worker ? [MessagingWorkerModule] : []),
        WebhooksModule,
        TemplatesModule,
        VerificationModule,
        AppointmentsModule,
        SmsSdkModule,
        MonitoringModule,
        AnalyticsModule,
        CallbacksModule,
        CampaignsModule,
        ...(worker ? [CampaignsWorkerModule] : []),
        PrivacyModule,
        ...(worker ? [PrivacyWorkerModule] : []),
        DashboardModule,
      ],
      providers: [
        // Global guards run in this order: who are you, how fast, which tenant, may you, is the
        // input storable text (last, so requests it refuses still count against the rate).
        { provide: APP_GUARD, useExisting: JwtAuthGuard },
        { provide: APP_GUARD, useClass: RequestRateGuard },
        { provide: APP_GUARD, useExisting: TenantGuard },
        { provide: APP_GUARD, useExisting: RolesGuard },
        { provide: APP_GUARD, useClass: RequestTextGuard },
        { provide: APP_FILTER, useClass: AppExceptionFilter },
      ],
    };
  }
}
