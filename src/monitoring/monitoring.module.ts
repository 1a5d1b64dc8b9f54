import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bull';
import { ReplicaReadsModule } from '../database/replica-reads';
import { AuditModule } from '../audit';
import { CallbacksModule } from '../callbacks';
import { MessagingModule } from '../messaging';
import { ProvidersModule } from '../providers';
import { TenancyModule } from '../tenancy';
import { AlertsController } from './alerts.controller';
import { AlertsEvaluator } from './alerts.evaluator';
import { AlertsService } from './alerts.service';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { MetricsService, MONITORED_QUEUES } from './metrics.service';
import { ProviderHealthController } from './provider-health.controller';
import { QueueDashboard } from './queue-dashboard';
import { WorkerMetricsServer } from './worker-metrics.server';

/**
 * Metrics (/metrics, worker METRICS_PORT), /health/providers and alerts. Nothing imports it: it
 * observes the providers and reads through the features' exported services.
 */
@Module({
  imports: [
    BullModule.registerQueue(...Object.values(MONITORED_QUEUES).map((name) => ({ name }))),
    ProvidersModule,
    TenancyModule,
    AuditModule,
    CallbacksModule,
    MessagingModule,
    ReplicaReadsModule,
  ],
  controllers: [MetricsController, ProviderHealthController, AlertsController],
  providers: [MetricsService, AlertsService, AlertsEvaluator, QueueDashboard, HttpMetrics],
  exports: [MetricsService, AlertsService, AlertsEvaluator],
})
export class MonitoringModule {}

/** The long-running worker's part: its metrics server on METRICS_PORT (a one-shot job opens none). */
@Module({ imports: [MonitoringModule], providers: [WorkerMetricsServer] })
export class MonitoringWorkerModule {}
