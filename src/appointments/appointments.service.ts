import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { NotFoundError } from '../common/errors';
import { TenantsService } from '../tenancy/tenants.service';
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
    @InjectDataSource() ds: DataSource,
    private readonly tenants: TenantsService,
  ) {
    this.repo = ds.getRepository(AppointmentEntity);
  }

  /** Upsert; a changed start time makes the appointment due for a reminder again. */
  async upsert(
    tenantId: number,
    appointmentId: string,
    input: AppointmentInput,
  ): Promise<{ row: AppointmentEntity; created: boolean }> {
    await this.tenants.ensure(tenantId);
    const existing = await this.repo.findOneBy({ tenantId, appointmentId });
    const now = new Date();
    if (existing) {
      const moved = existing.startsAt.getTime() !== input.startsAt.getTime();
      Object.assign(existing, input, {
        updatedAt: now,
        reminderSentAt: moved ? null : existing.reminderSentAt,
      });
      return { row: await this.repo.save(existing), created: false };
    }
    const row = this.repo.create({
      ...input,
      tenantId,
      appointmentId,
      reminderSentAt: null,
      createdAt: now,
      updatedAt: now,
    });
    return { row: await this.repo.save(row), created: true };
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

/** The reminder's date and time, written in the appointment's zone and language. Pure. */
export function formatAppointment(
  a: Pick<AppointmentEntity, 'startsAt' | 'timezone'>,
  language: string,
): { date: string; time: string } {
  const locale = language === 'tr' ? 'tr-TR' : 'en-US';
  return {
    date: new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: a.timezone }).format(a.startsAt),
    time: new Intl.DateTimeFormat(locale, { timeStyle: 'short', timeZone: a.timezone }).format(a.startsAt),
  };
}
