import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { LockKey, withAdvisoryLock } from '../database/advisory-lock';
import { AlertsService } from './alerts.service';

/**
 * Worker role: every SMS_ALERT_INTERVAL_MS, under a PostgreSQL advisory lock (one replica per
 * tick), evaluate cost and failure-rate alerts (the callbacks dispatcher delivers them). The lock only saves
 * work: `sms_alerts_once` alone already makes each alert exist once.
 */
@Injectable()
export class AlertsScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AlertsScheduler.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly alerts: AlertsService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsWorker()) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = null));
    }, this.config.get('SMS_ALERT_INTERVAL_MS'));
    this.timer.unref();
  }

  /** One evaluation: cost thresholds, then failure rates. Never throws. */
  async tick(): Promise<void> {
    try {
      await withAdvisoryLock(this.ds, LockKey.Alerts, async () => {
        await this.alerts.evaluateCost();
        await this.alerts.evaluateFailures();
      });
    } catch (e) {
      this.logger.error({ err: String(e) }, 'alert evaluation failed');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
