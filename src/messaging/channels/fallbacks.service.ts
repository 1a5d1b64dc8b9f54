import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock';
import { AppConfig } from '../../config/app-config';
import type { Language, MessageType } from '../../core/message-types';
import { AcceptService } from '../accept/accept.service';

/** The WhatsApp message a fallback SMS replaces: what the SMS copies. */
export interface FallbackSource {
  id: string;
  tenantId: number;
  createdBy: string;
  userId: string | null;
  phoneNumber: string;
  country: string | null;
  body: string;
  messageType: MessageType;
  language: Language;
  templateId: string | null;
  campaignId: string | null;
  metadata: Record<string, unknown>;
  statusCallbackUrl: string | null;
  expiresAt: Date | null;
  testMode: boolean;
}

/** Due fallbacks a pass takes at most (the next pass takes the rest). */
const PASS_LIMIT = 200;

interface DueRow {
  id: string;
  tenant_id: number;
  created_by: string;
  user_id: string | null;
  phone_number: string;
  country: string | null;
  body: string;
  message_type: MessageType;
  language: Language;
  template_id: string | null;
  campaign_id: string | null;
  metadata: Record<string, unknown>;
  status_callback_url: string | null;
  expires_at: Date | null;
  test_mode: boolean;
  status: string;
}

/**
 * The `fallbacks` job (every SMS_FALLBACK_INTERVAL_MS, every worker): WhatsApp messages sent with
 * `fallback_channel: "sms"` that failed definitively (`failed`, `undelivered`), or have had no
 * delivery receipt for the tenant's `whatsapp_fallback_seconds` since they were sent (`sent`,
 * `unknown`), go out once as SMS through `AcceptService.acceptFallback`. Workers share the rows:
 * each fallback is taken by one conditional UPDATE, so two workers, or a pass that is retried,
 * never send two SMS for one message.
 */
@Injectable()
export class ChannelFallbacks {
  private readonly logger = new Logger(ChannelFallbacks.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly accept: AcceptService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async pass(): Promise<{ due: number; sent: number }> {
    const now = this.clock.now();
    const rows: DueRow[] = await this.ds.query(
      `SELECT m.id, m.tenant_id, m.created_by, m.user_id, m.phone_number, m.country, m.body, m.message_type,
              m.language, m.template_id, m.campaign_id, m.metadata, m.status_callback_url, m.expires_at,
              m.test_mode, m.status
         FROM sms_messages m JOIN tenants t ON t.id = m.tenant_id
        WHERE m.fallback_channel IS NOT NULL AND m.fallback_reason IS NULL
          AND m.status IN ('sent', 'unknown', 'failed', 'undelivered')
          AND (m.status IN ('failed', 'undelivered')
               OR COALESCE(m.sent_at, m.updated_at) <= $1::timestamptz - make_interval(secs =>
                    COALESCE(CASE WHEN jsonb_typeof(t.settings->'whatsapp_fallback_seconds') = 'number'
                                  THEN (t.settings->>'whatsapp_fallback_seconds')::int END, $2::int)))
        ORDER BY m.sent_at NULLS FIRST LIMIT $3`,
      [now, this.config.get('SMS_WHATSAPP_FALLBACK_SECONDS'), PASS_LIMIT],
    );
    let sent = 0;
    for (const r of rows) {
      const reason = r.status === 'failed' || r.status === 'undelivered' ? r.status : 'no_receipt';
      try {
        const id = await this.accept.acceptFallback(toSource(r), reason);
        if (id !== null) {
          sent++;
          this.logger.log(
            { messageId: r.id, fallbackMessageId: id, reason },
            'WhatsApp message falls back to SMS',
          );
        }
      } catch (e) {
        // One message's failure (a database error) leaves it for the next pass; the others go on.
        this.logger.warn(
          { messageId: r.id, err: String(e) },
          'fallback not written; the next pass tries again',
        );
      }
    }
    return { due: rows.length, sent };
  }
}

function toSource(r: DueRow): FallbackSource {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    createdBy: r.created_by,
    userId: r.user_id,
    phoneNumber: r.phone_number,
    country: r.country,
    body: r.body,
    messageType: r.message_type,
    language: r.language,
    templateId: r.template_id,
    campaignId: r.campaign_id,
    metadata: r.metadata ?? {},
    statusCallbackUrl: r.status_callback_url,
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
    testMode: r.test_mode === true,
  };
}
