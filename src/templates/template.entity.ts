import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Channel } from '../core/channels';
import type { MessageType } from '../core/message-types';
import type { TemplateVariant } from './variant-rules';

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
  /** A running A/B test: the bodies sends are split between (null: none, `content` is sent). */
  @Column('jsonb', { nullable: true }) variants: TemplateVariant[] | null;
  /** The test's id, part of the stable hash that picks a recipient's variant. */
  @Column('varchar', { name: 'variant_test_id', nullable: true }) variantTestId: string | null;
  /** When the running test began: its stats count the messages accepted since. */
  @Column('timestamptz', { name: 'variants_started_at', nullable: true }) variantsStartedAt: Date | null;
  /** channels (issue 25): the channel its sends take unless a send names one; whatsapp: its approved template. */
  @Column('varchar') channel: Channel;
  @Column('varchar', { name: 'content_sid', nullable: true }) contentSid: string | null;
  @Column('boolean', { name: 'is_active' }) isActive: boolean;
  @Column('integer') version: number;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}
