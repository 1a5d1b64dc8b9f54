import { Injectable } from '@nestjs/common';
import { AlertsService } from './alerts.service';

/**
 * The `alerts` job's work (src/jobs: every SMS_ALERT_INTERVAL_MS, one replica at a time under an
 * advisory lock): evaluate cost and failure-rate alerts (each raised one is published to the
 * callbacks outbox in its own transaction). The lock only saves work: `sms_alerts_once` alone already makes each alert exist once.
 */
@Injectable()
export class AlertsEvaluator {
  constructor(private readonly alerts: AlertsService) {}

  /** One evaluation: cost thresholds, then failure rates. A failure throws. */
  async evaluate(): Promise<void> {
    await this.alerts.evaluateCost();
    await this.alerts.evaluateFailures();
  }
}
