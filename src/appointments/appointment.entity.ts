import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('sms_appointments')
export class AppointmentEntity {
  @PrimaryColumn('integer', { name: 'tenant_id' }) tenantId: number;
  @PrimaryColumn('varchar', { name: 'appointment_id' }) appointmentId: string;
  @Column('varchar', { name: 'user_id', nullable: true }) userId: string | null;
  @Column('varchar', { name: 'phone_number' }) phoneNumber: string;
  @Column('timestamptz', { name: 'starts_at' }) startsAt: Date;
  @Column('varchar', { name: 'trainer_name' }) trainerName: string;
  @Column('varchar') location: string;
  @Column('varchar', { nullable: true }) language: 'en' | 'tr' | null;
  /** IANA zone the reminder's date and time are written in. */
  @Column('varchar') timezone: string;
  @Column('timestamptz', { name: 'reminder_sent_at', nullable: true }) reminderSentAt: Date | null;
  /** The token's sub that created it: it, or a tenant admin, may read, change or delete it. Null: before owners were recorded (admins only). */
  @Column('varchar', { name: 'created_by', nullable: true }) createdBy: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}
