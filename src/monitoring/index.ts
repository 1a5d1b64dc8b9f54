/** The public surface of monitoring: metrics, provider health and alerts. */
export { MonitoringModule, MonitoringWorkerModule } from './monitoring.module';
export { MetricsService } from './metrics.service';
export { AlertsService, COST_THRESHOLDS_PCT } from './alerts.service';
export type { AlertKind, AlertRow, ListedAlert } from './alerts.service';
export { AlertsEvaluator } from './alerts.evaluator';
export { WorkerMetricsServer } from './worker-metrics.server';
