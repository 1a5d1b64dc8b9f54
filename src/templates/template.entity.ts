import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Channel } from '../core/channels';
import type { MessageType } from '../core/message-types';

@Entity('sms_templates')
export class SmsTemplateEntity {
  @PrimaryGeneratedColumn() id: number;
  /** null: a built-in default every tenant sees. */
  @Column('integer', { name: 'tenant_id', nullable: true }) tenantId: number | null;
  @Column('varchar', { name: 'template_id' }) templateId: string;
  @Column('varchar') name: string;
  @Column('varchar', { name: 'message_type' }) messageType: MessageType;
  /** Custom message types only: true sends as transactional SMS (default promotional). */
  @Column('boolean') transactional: boolean;
  /** Sent exactly as written: the tenant's smart encoding never changes its texts. */
  @Column('boolean') exact: boolean;
  /** Text per language code, e.g. {en, tr}. */
  @Column('jsonb') content: Record<string, string>;
  @Column('jsonb') variables: string[];
  /** The validity period (seconds) of messages sent with it, unless a send gives its own; null: none. */
  @Column('integer', { name: 'validity_seconds', nullable: true }) validitySeconds: number | null;
  /** channels (issue 25): the channel its sends take unless a send names one; whatsapp: its approved template. */
  @Column('varchar') channel: Channel;
  @Column('varchar', { name: 'content_sid', nullable: true }) contentSid: string | null;
  @Column('boolean', { name: 'is_active' }) isActive: boolean;
  @Column('integer') version: number;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}
