import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors';
import { TenantsService } from '../tenancy';
import { AppointmentEntity } from './appointment.entity';

export interface AppointmentInput {
  userId: string | null;
  phoneNumber: string;
  startsAt: Date;
  trainerName: string;
  location: string;
  language: 'en' | 'tr' | null;
  timezone: string;
}

/** Appointments the platform upserts so reminders can be sent by id. Tenant-scoped. */
@Injectable()
export class AppointmentsService {
  private readonly repo: Repository<AppointmentEntity>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly tenants: TenantsService,
    private readonly clock: Clock,
  ) {
    this.repo = ds.getRepository(AppointmentEntity);
  }

  /**
   * Upsert in one statement (concurrent PUTs of a new id cannot collide); a changed start time
   * makes the appointment due for a reminder again.
   */
  async upsert(
    tenantId: number,
    appointmentId: string,
    input: AppointmentInput,
  ): Promise<{ row: AppointmentEntity; created: boolean }> {
    await this.tenants.ensure(tenantId);
    const [r]: { created: boolean }[] = await this.ds.query(
      `INSERT INTO sms_appointments AS a (tenant_id, appointment_id, user_id, phone_number, starts_at,
         trainer_name, location, language, timezone, reminder_sent_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $10)
       ON CONFLICT (tenant_id, appointment_id) DO UPDATE SET
         user_id = EXCLUDED.user_id, phone_number = EXCLUDED.phone_number, starts_at = EXCLUDED.starts_at,
         trainer_name = EXCLUDED.trainer_name, location = EXCLUDED.location, language = EXCLUDED.language,
         timezone = EXCLUDED.timezone, updated_at = EXCLUDED.updated_at,
         reminder_sent_at = CASE WHEN a.starts_at = EXCLUDED.starts_at THEN a.reminder_sent_at END
       RETURNING (xmax = 0) AS created`,
      [
        tenantId,
        appointmentId,
        input.userId,
        input.phoneNumber,
        input.startsAt,
        input.trainerName,
        input.location,
        input.language,
        input.timezone,
        this.clock.now(),
      ],
    );
    return { row: await this.get(tenantId, appointmentId), created: r.created };
  }

  async get(tenantId: number, appointmentId: string): Promise<AppointmentEntity> {
    const row = await this.repo.findOneBy({ tenantId, appointmentId });
    if (!row) throw new NotFoundError(`appointment ${appointmentId} not found`);
    return row;
  }

  async remove(tenantId: number, appointmentId: string): Promise<void> {
    const { affected } = await this.repo.delete({ tenantId, appointmentId });
    if (!affected) throw new NotFoundError(`appointment ${appointmentId} not found`);
  }

  async markReminded(tenantId: number, appointmentId: string, at: Date): Promise<void> {
    await this.repo.update({ tenantId, appointmentId }, { reminderSentAt: at });
  }
}
