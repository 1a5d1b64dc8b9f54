import { Column, Entity, PrimaryColumn } from 'typeorm';

export type VerificationPurpose = 'password_reset' | '2fa';

@Entity('sms_verification_codes')
export class VerificationCodeEntity {
  @PrimaryColumn('integer', { name: 'tenant_id' }) tenantId: number;
  @PrimaryColumn('varchar', { name: 'phone_number' }) phoneNumber: string;
  @PrimaryColumn('varchar') purpose: VerificationPurpose;
  /** HMAC-SHA256 of salt + code; the code itself is never stored. */
  @Column('char', { name: 'code_hash' }) codeHash: string;
  @Column('char') salt: string;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  @Column('smallint') attempts: number;
  @Column('timestamptz', { name: 'consumed_at', nullable: true }) consumedAt: Date | null;
  @Column('uuid', { name: 'message_id', nullable: true }) messageId: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
}
