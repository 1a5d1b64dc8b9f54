import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { Channel, ChannelParams, WhatsappMode } from '../core/channels';
import type { Language, MessageStatus, MessageType, ProviderName } from '../core/message-types';

const numeric = {
  to: (v: number | null) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

@Entity('sms_messages')
export class SmsMessageEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('integer', { name: 'tenant_id' }) tenantId: number;
  @Column('varchar', { name: 'user_id', nullable: true }) userId: string | null;
  @Column('varchar', { name: 'created_by' }) createdBy: string;
  @Column('varchar', { name: 'phone_number' }) phoneNumber: string;
  /** The destination's ISO 3166 alpha-2 country, from accept (null: non-geographic, or older rows). */
  @Column('varchar', { nullable: true }) country: string | null;
  /** What history shows: for code messages the code is replaced by ******. */
  @Column('text') body: string;
  /** The full body, encrypted, only for code messages and only until they are handed over. */
  @Column('text', { name: 'body_ciphertext', nullable: true }) bodyCiphertext: string | null;
  @Column('varchar', { name: 'message_type' }) messageType: MessageType;
  @Column('varchar') language: Language;
  @Column('varchar', { name: 'template_id', nullable: true }) templateId: string | null;
  @Column('varchar') status: MessageStatus;
  @Column('varchar', { nullable: true }) provider: ProviderName | null;
  @Column('varchar', { name: 'provider_message_id', nullable: true }) providerMessageId: string | null;
  @Column('smallint') segments: number;
  @Column('varchar') encoding: 'GSM-7' | 'UCS-2';
  @Column('numeric', { name: 'estimated_cost', nullable: true, transformer: numeric }) estimatedCost:
    number | null;
  @Column('numeric', { nullable: true, transformer: numeric }) cost: number | null;
  @Column('char') currency: string;
  @Column('smallint') attempts: number;
  /**
   * The providers the current attempt was handed to (the claim's first pick, then each fallback,
   * each written before its call); null: not recorded. The worker's and the resolver's only.
   */
  @Column('varchar', { name: 'attempt_providers', array: true, nullable: true, select: false })
  attemptProviders: ProviderName[] | null;
  @Column('varchar', { name: 'error_code', nullable: true }) errorCode: string | null;
  @Column('text', { name: 'error_message', nullable: true }) errorMessage: string | null;
  @Column('timestamptz', { name: 'scheduled_at', nullable: true }) scheduledAt: Date | null;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt: Date | null;
  @Column('timestamptz', { name: 'delivered_at', nullable: true }) deliveredAt: Date | null;
  @Column('uuid', { name: 'batch_id', nullable: true }) batchId: string | null;
  @Column('uuid', { name: 'campaign_id', nullable: true }) campaignId: string | null;
  @Column('varchar', { name: 'idempotency_key', nullable: true }) idempotencyKey: string | null;
  @Column('jsonb') metadata: Record<string, unknown>;
  /** The validity period's end: not handed to a provider by then, the message ends `expired`. */
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  /** The sender identity chosen at accept (alphanumeric ID, number or Messaging Service SID). */
  @Column('varchar', { nullable: true }) sender: string | null;
  /** Accepted in test mode: handed to the sandbox provider only, never charged. */
  @Column('boolean', { name: 'test_mode' }) testMode: boolean;
  /** When a verification check succeeded on the code this message carried. */
  @Column('timestamptz', { name: 'converted_at', nullable: true }) convertedAt: Date | null;
  /** The template's A/B variant key it was rendered from (issue 25); null: none. */
  @Column('varchar', { nullable: true }) variant: string | null;
  // --- channels (issue 25, docs/sending.md#channels) ---
  @Column('varchar') channel: Channel;
  /** What the channel's wire format needs (media_urls, content_sid, content_variables); null for SMS. */
  @Column('jsonb', { name: 'channel_params', nullable: true }) channelParams: ChannelParams | null;
  @Column('varchar', { name: 'whatsapp_mode', nullable: true }) whatsappMode: WhatsappMode | null;
  @Column('varchar', { name: 'fallback_channel', nullable: true }) fallbackChannel: 'sms' | null;
  @Column('varchar', { name: 'fallback_reason', nullable: true }) fallbackReason: string | null;
  @Column('uuid', { name: 'fallback_message_id', nullable: true }) fallbackMessageId: string | null;
  @Column('uuid', { name: 'fallback_of', nullable: true }) fallbackOf: string | null;
  // --- end channels ---
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}

@Entity('sms_message_events')
export class SmsMessageEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id: string;
  @Column('uuid', { name: 'message_id' }) messageId: string;
  @Column('varchar') status: MessageStatus;
  @Column('varchar') source: string;
  @Column('jsonb', { nullable: true }) payload: Record<string, unknown> | null;
  @Column('timestamptz') at: Date;
}

@Entity('sms_prices')
export class SmsPriceEntity {
  @PrimaryColumn('varchar') provider: ProviderName;
  /** sms (per segment), whatsapp or mms (per message). */
  @PrimaryColumn('varchar') channel: Channel;
  @PrimaryColumn('char') country: string;
  @Column('numeric', { name: 'price_per_segment', transformer: numeric }) pricePerSegment: number;
  @Column('char') currency: string;
}
