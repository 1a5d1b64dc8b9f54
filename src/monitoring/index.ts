/** The public surface of monitoring: metrics, provider health, alerts and the spend cap. */
export { MonitoringModule, MonitoringWorkerModule } from './monitoring.module';
export { MetricsService } from './metrics.service';
export { AlertsService, COST_THRESHOLDS_PCT, monthBounds } from './alerts.service';
export type { AlertKind, AlertRow } from './alerts.service';
export { AlertsEvaluator } from './alerts.evaluator';
export { SpendCapPolicy, SpendCapReachedError } from './spend-cap.policy';
export { WorkerMetricsServer } from './worker-metrics.server';
export { SIGNATURE_HEADER, signBody, isPrivateAddress, webhookUrlProblem } from './webhook-sender';
