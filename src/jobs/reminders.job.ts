import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { LockKey, runCronJob } from '../database/advisory-lock';
import { SmsService } from '../sdk';

/** The system user reminders are sent as (it shows as created_by). */
export const REMINDER_USER = 'system:reminders';

/**
 * The brief's "send SMS appointment reminders: every 30 minutes": appointments of active tenants
 * starting within SMS_REMINDER_LEAD_HOURS and not yet reminded. One appointment's failure does not
 * stop the others; each reminder carries an idempotency key, so a rerun cannot send it twice.
 */
@Injectable()
export class RemindersJob {
  private readonly logger = new Logger(RemindersJob.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly sms: SmsService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  @Cron(CronExpression.EVERY_30_MINUTES, { name: 'sms-reminders' })
  tick(): Promise<void> {
    return runCronJob(this.ds, LockKey.AppointmentReminders, this.logger, 'reminders', () => this.run());
  }

  async run(): Promise<{ sent: number; failed: number }> {
    const now = this.clock.now();
    const due: { tenant_id: number; appointment_id: string }[] = await this.ds.query(
      `SELECT a.tenant_id, a.appointment_id FROM sms_appointments a JOIN tenants t ON t.id = a.tenant_id AND t.active
        WHERE a.reminder_sent_at IS NULL AND a.starts_at > $1 AND a.starts_at <= $1 + make_interval(hours => $2)
        ORDER BY a.starts_at LIMIT 5000`,
      [now, this.config.get('SMS_REMINDER_LEAD_HOURS')],
    );
    let sent = 0;
    let failed = 0;
    for (const a of due) {
      const out = await this.sms.sendAppointmentReminder(
        { tenantId: a.tenant_id, userId: REMINDER_USER, roles: ['admin'] },
        { appointmentId: a.appointment_id },
      );
      if (out.success) sent += 1;
      else {
        failed += 1;
        this.logger.warn(
          { tenantId: a.tenant_id, appointmentId: a.appointment_id, error: out.error?.code },
          'reminder not sent',
        );
      }
    }
    if (due.length) this.logger.log({ sent, failed }, 'appointment reminders');
    return { sent, failed };
  }
}
