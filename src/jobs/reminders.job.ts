import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { REMINDER_USER, SmsService } from '../sdk';
import { JobsQueue, ReminderCursor, tickWindow } from './jobs-queue';

/** The system user reminders are sent as (it shows as created_by). */
export { REMINDER_USER };

export interface TenantRemindersResult {
  tenantId: number;
  sent: number;
  failed: number;
  /** Where the next part starts when this one hit SMS_REMINDERS_PER_JOB, else null. */
  next: ReminderCursor | null;
}

/**
 * The brief's "send SMS appointment reminders: every 30 minutes" (SMS_REMINDERS_CRON): appointments
 * of active tenants starting within SMS_REMINDER_LEAD_HOURS and not yet reminded.
 *
 * The tick only enqueues: one job per tenant with due reminders (job id per tenant and planned
 * tick, so replicas ticking together add it once). The worker runs them SMS_JOBS_CONCURRENCY at
 * a time; a job sends at most SMS_REMINDERS_PER_JOB and queues the rest as a new job at the back
 * of the queue, so one tenant's 5,000 reminders neither block the tick nor starve other tenants.
 * Each reminder carries an idempotency key (appointment + start), so a rerun cannot send it twice;
 * one appointment's failure does not stop the others.
 */
@Injectable()
export class RemindersJob {
  private readonly logger = new Logger(RemindersJob.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly sms: SmsService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly jobs: JobsQueue,
  ) {}

  /** The tick planned for `at`: adds one job per tenant with due reminders; returns the job ids. */
  async enqueue(at: Date): Promise<string[]> {
    const window = tickWindow(at);
    const jobs = (await this.dueTenants(this.clock.now())).map((tenantId) => ({
      name: 'reminders' as const,
      data: { tenantId },
      jobId: `reminders:${tenantId}:${window}:0`,
    }));
    await this.jobs.add(jobs);
    if (jobs.length) this.logger.log({ tenants: jobs.length }, 'appointment reminders queued');
    return jobs.map((j) => j.jobId);
  }

  /** One part of one tenant's due reminders: at most SMS_REMINDERS_PER_JOB, after `after`. */
  async runTenant(tenantId: number, after?: ReminderCursor): Promise<TenantRemindersResult> {
    const now = this.clock.now();
    const limit = this.config.get('SMS_REMINDERS_PER_JOB');
    const due: { appointment_id: string; starts_at: Date }[] = await this.ds.query(
      `SELECT a.appointment_id, a.starts_at FROM sms_appointments a JOIN tenants t ON t.id = a.tenant_id AND t.active
        WHERE a.tenant_id = $1 AND a.reminder_sent_at IS NULL
          AND a.starts_at > $2 AND a.starts_at <= $2 + make_interval(hours => $3)
          AND ($4::timestamptz IS NULL OR (a.starts_at, a.appointment_id) > ($4::timestamptz, $5::text))
        ORDER BY a.starts_at, a.appointment_id LIMIT $6`,
      [
        tenantId,
        now,
        this.config.get('SMS_REMINDER_LEAD_HOURS'),
        after?.startsAt ?? null,
        after?.appointmentId ?? '',
        limit + 1,
      ],
    );
    const batch = due.slice(0, limit);
    let sent = 0;
    let failed = 0;
    for (const a of batch) {
      const out = await this.sms.sendAppointmentReminder(
        { tenantId, userId: REMINDER_USER, roles: ['admin'] },
        { appointmentId: a.appointment_id },
      );
      if (out.success) sent += 1;
      else {
        failed += 1;
        this.logger.warn(
          { tenantId, appointmentId: a.appointment_id, error: out.error?.code },
          'reminder not sent',
        );
      }
    }
    const last = batch.at(-1);
    const next =
      due.length > limit && last
        ? { startsAt: new Date(last.starts_at).toISOString(), appointmentId: last.appointment_id }
        : null;
    if (batch.length)
      this.logger.log({ tenantId, sent, failed, more: next !== null }, 'appointment reminders');
    return { tenantId, sent, failed, next };
  }

  /** Every part of one tenant's due reminders, in this process (operators: `npm run job`). */
  async runTenantAll(tenantId: number): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    let after: ReminderCursor | undefined;
    do {
      const r = await this.runTenant(tenantId, after);
      sent += r.sent;
      failed += r.failed;
      after = r.next ?? undefined;
    } while (after);
    return { sent, failed };
  }

  /** Every tenant's due reminders, in this process (operators: `npm run job -- reminders`). */
  async run(): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    for (const tenantId of await this.dueTenants(this.clock.now())) {
      const r = await this.runTenantAll(tenantId);
      sent += r.sent;
      failed += r.failed;
    }
    return { sent, failed };
  }

  /** Active tenants with at least one reminder due now. */
  private async dueTenants(now: Date): Promise<number[]> {
    const rows: { tenant_id: number }[] = await this.ds.query(
      `SELECT DISTINCT a.tenant_id FROM sms_appointments a JOIN tenants t ON t.id = a.tenant_id AND t.active
        WHERE a.reminder_sent_at IS NULL AND a.starts_at > $1 AND a.starts_at <= $1 + make_interval(hours => $2)
        ORDER BY a.tenant_id`,
      [now, this.config.get('SMS_REMINDER_LEAD_HOURS')],
    );
    return rows.map((r) => Number(r.tenant_id));
  }
}
