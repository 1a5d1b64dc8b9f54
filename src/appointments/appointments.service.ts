import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { AuditService } from '../audit';
import { isAdmin, Principal } from '../auth/principal';
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

/**
 * The owner rule: an appointment is read, changed and deleted by the user who created it or by an
 * admin of its tenant. Anyone else is told it does not exist (404), as for messages, so ids of
 * other users' appointments cannot be probed.
 */
export function mayTouchAppointment(p: Principal, a: Pick<AppointmentEntity, 'createdBy'>): boolean {
  return isAdmin(p) || (a.createdBy !== null && a.createdBy === p.userId);
}

const notFound = (id: string) => new NotFoundError(`appointment ${id} not found`);

/**
 * Appointments the platform upserts so reminders can be sent by id. Tenant-scoped; changes go
 * through the owner rule and are audited (`appointment.create|update|delete`) in their transaction.
 */
@Injectable()
export class AppointmentsService {
  private readonly repo: Repository<AppointmentEntity>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly tenants: TenantsService,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {
    this.repo = ds.getRepository(AppointmentEntity);
  }

  /**
   * Creates the appointment (owned by `actor`) or, when the owner rule lets `actor`, changes it
   * under a row lock; a changed start time makes it due for a reminder again. Another user's
   * appointment answers 404 and is left as it was.
   */
  async upsert(
    actor: Principal,
    appointmentId: string,
    input: AppointmentInput,
  ): Promise<{ row: AppointmentEntity; created: boolean }> {
    const tenantId = actor.tenantId;
    await this.tenants.ensure(tenantId);
    const now = this.clock.now();
    return this.ds.transaction(async (m) => {
      // Two rounds at most: the row can vanish (a concurrent DELETE) between the insert and the lock.
      for (let round = 0; round < 2; round++) {
        const inserted: unknown[] = await m.query(
          `INSERT INTO sms_appointments (tenant_id, appointment_id, user_id, phone_number, starts_at,
             trainer_name, location, language, timezone, reminder_sent_at, created_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $11)
           ON CONFLICT (tenant_id, appointment_id) DO NOTHING RETURNING 1`,
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
            actor.userId,
            now,
          ],
        );
        if (inserted.length) {
          const row = await this.locked(m, tenantId, appointmentId);
          if (!row) throw notFound(appointmentId);
          await this.audit.record(actor, 'appointment.create', target(row), null, auditView(row), m);
          return { row, created: true };
        }
        const existing = await this.locked(m, tenantId, appointmentId);
        if (!existing) continue;
        if (!mayTouchAppointment(actor, existing)) throw notFound(appointmentId);
        const before = auditView(existing);
        const reminderSentAt =
          existing.startsAt.getTime() === input.startsAt.getTime() ? existing.reminderSentAt : null;
        await m
          .getRepository(AppointmentEntity)
          .update({ tenantId, appointmentId }, { ...input, reminderSentAt, updatedAt: now });
        const row = (await this.locked(m, tenantId, appointmentId)) as AppointmentEntity;
        await this.audit.record(actor, 'appointment.update', target(row), before, auditView(row), m);
        return { row, created: false };
      }
      throw notFound(appointmentId);
    });
  }

  /** For in-process callers (the SDK, reminders) that act for the tenant as a whole. */
  async get(tenantId: number, appointmentId: string): Promise<AppointmentEntity> {
    const row = await this.repo.findOneBy({ tenantId, appointmentId });
    if (!row) throw notFound(appointmentId);
    return row;
  }

  /** An appointment as `actor` may see it: 404 unless the owner rule lets them. */
  async read(actor: Principal, appointmentId: string): Promise<AppointmentEntity> {
    const row = await this.repo.findOneBy({ tenantId: actor.tenantId, appointmentId });
    if (!row || !mayTouchAppointment(actor, row)) throw notFound(appointmentId);
    return row;
  }

  async remove(actor: Principal, appointmentId: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const row = await this.locked(m, actor.tenantId, appointmentId);
      if (!row || !mayTouchAppointment(actor, row)) throw notFound(appointmentId);
      await m.getRepository(AppointmentEntity).delete({ tenantId: actor.tenantId, appointmentId });
      await this.audit.record(actor, 'appointment.delete', target(row), auditView(row), null, m);
    });
  }

  async markReminded(tenantId: number, appointmentId: string, at: Date): Promise<void> {
    await this.repo.update({ tenantId, appointmentId }, { reminderSentAt: at });
  }

  private locked(
    m: EntityManager,
    tenantId: number,
    appointmentId: string,
  ): Promise<AppointmentEntity | null> {
    return m
      .getRepository(AppointmentEntity)
      .createQueryBuilder('a')
      .setLock('pessimistic_write')
      .where('a.tenant_id = :tenantId AND a.appointment_id = :appointmentId', { tenantId, appointmentId })
      .getOne();
  }
}

const target = (a: AppointmentEntity) => ({ type: 'appointment', id: a.appointmentId, tenantId: a.tenantId });

/** What the audit log keeps of an appointment. */
function auditView(a: AppointmentEntity) {
  return {
    appointment_id: a.appointmentId,
    user_id: a.userId,
    phone_number: a.phoneNumber,
    starts_at: a.startsAt,
    trainer_name: a.trainerName,
    location: a.location,
    language: a.language,
    timezone: a.timezone,
    created_by: a.createdBy,
  };
}
