import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { SmartEncodingMode } from '../core/smart-encoding';
import type { SenderSettings } from '../core/sender-identity';
import type { ProviderName } from '../core/message-types';

/** A provider a tenant may pin (the sandbox is not one). */
export type PinnedProvider = Exclude<ProviderName, 'sandbox'>;

/** Per-tenant overrides; anything absent falls back to the service-wide setting. */
export interface TenantSettings {
  rate_limit?: number;
  admin_rate_limit?: number;
  default_language?: 'en' | 'tr';
  /** Monthly cost (in SMS_CURRENCY) above which an alert is logged. */
  cost_alert_threshold?: number;
  /** Destination countries (ISO 3166 alpha-2), or ['*'] for all; unset: DEFAULT_COUNTRY_CODE only. */
  allowed_countries?: string[] | null;
  /** Month-to-date cost (in SMS_CURRENCY) past which new sends are refused with 402; unset: none. */
  monthly_spend_cap?: number | null;
  /** The tenant's own inbound keywords, besides the built-in STOP/START/HELP words. */
  inbound_keywords?: { stop?: string[]; start?: string[]; help?: string[] };
  /** Campaign recipients a day (UTC) across the tenant's campaigns; default 50,000. */
  campaign_daily_limit?: number;
  /** Promotional campaign messages due inside this daily window wait for its end (recipient's zone). */
  quiet_hours?: { start: string; end: string } | null;
  /** IANA zone for recipients with neither their own nor a single-zone country. */
  timezone?: string | null;
  /** Look-alike characters (or letters too) written in GSM-7 before a message is measured; unset: lookalikes. */
  smart_encoding?: SmartEncodingMode | null;
  /** Who messages come from, per destination country ("*": every other); unset: the provider's default. */
  senders?: SenderSettings | null;
  /**
   * Promotional messages need the number's granted SMS consent: `required` everywhere,
   * `not_required` nowhere; unset (or null): Turkish numbers only (İYS).
   */
  promotional_consent?: 'required' | 'not_required' | null;
  /** Every message of the tenant is a test-mode message: the sandbox only, at no cost. */
  test_mode?: boolean;
  /** URLs in message bodies become tracked short links (PUBLIC_BASE_URL/l/<code>); unset: off. */
  link_tracking?: boolean;
  /** Days after which message and inbound bodies are redacted; unset or null: SMS_BODY_RETENTION_DAYS. */
  body_retention_days?: number | null;
  /**
   * The provider tried first, for every message (`pin`) or per message type (`pin_by_type`, which
   * wins); adaptive routing does not move pinned messages. Fallback on failure still applies.
   */
  routing?: { pin?: PinnedProvider | null; pin_by_type?: Record<string, PinnedProvider> | null } | null;
  /** The tenant's own WhatsApp sender (E.164); unset: TWILIO_WHATSAPP_FROM. */
  whatsapp_sender?: string | null;
  /** Seconds a WhatsApp message with fallback_channel waits for a receipt; unset: SMS_WHATSAPP_FALLBACK_SECONDS. */
  whatsapp_fallback_seconds?: number | null;
}

@Entity('tenants')
export class TenantEntity {
  /** Assigned by the platform (the token's tenant_id), not generated here. */
  @PrimaryColumn('integer')
  id: number;

  @Column('varchar', { length: 200 })
  name: string;

  @Column('boolean', { default: true })
  active: boolean;

  @Column('jsonb', { default: {} })
  settings: TenantSettings;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
