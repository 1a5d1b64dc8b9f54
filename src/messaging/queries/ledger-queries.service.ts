import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The name of the Prometheus gauge of `recentCounts` (monitoring registers it; dashboards know it by this name). */
export const RECENT_MESSAGES_GAUGE = 'sms_messages';

/** Messages of one provider, type and status (none before hand-over: provider 'none'). */
export interface MessageCount {
  provider: string;
  type: string;
  status: string;
  count: number;
}

/** A tenant's finished messages of a window, and how many of them failed. */
export interface FailureCount {
  tenantId: number;
  failed: number;
  finished: number;
}

/**
 * The ledger's system-wide reads for other features (metrics, alerts, the inbound router): what
 * they need to know about messages, without their SQL on `sms_messages`. Read-only.
 */
@Injectable()
export class LedgerQueries {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Messages accepted in the last `minutes`, by provider, type and current status (BRIN on created_at). */
  async recentCounts(minutes: number): Promise<MessageCount[]> {
    const rows: { provider: string; type: string; status: string; count: string }[] = await this.ds.query(
      `SELECT COALESCE(provider, 'none') AS provider, message_type AS type, status, count(*) AS count
         FROM sms_messages
        WHERE created_at > now() - make_interval(mins => $1)
        GROUP BY 1, 2, 3`,
      [minutes],
    );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }

  /**
   * Per tenant, the messages accepted in (since, until] that have finished (delivered,
   * undelivered, failed) and how many of them failed or were undelivered; tenants with at least
   * `minFinished` only. Test-mode messages do not count: their failures are the test numbers'
   * scripted outcomes, not a sign that anything is wrong.
   */
  async failureCounts(since: Date, until: Date, minFinished: number): Promise<FailureCount[]> {
    const rows: { tenant_id: number; failed: string; finished: string }[] = await this.ds.query(
      `SELECT tenant_id,
              count(*) FILTER (WHERE status IN ('failed', 'undelivered')) AS failed,
              count(*) AS finished
         FROM sms_messages
        WHERE created_at > $1 AND created_at <= $2 AND status IN ('delivered', 'failed', 'undelivered')
          AND NOT test_mode
        GROUP BY tenant_id
       HAVING count(*) >= $3`,
      [since, until, minFinished],
    );
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      failed: Number(r.failed),
      finished: Number(r.finished),
    }));
  }

  /**
   * The tenant that last texted this number (the owner of a reply on a shared number), or null:
   * the latest message handed to a provider. A message only accepted (queued, scheduled for next
   * month, canceled) texted nobody yet, so it does not take the replies to another tenant's text;
   * nor does a test-mode message, which only the sandbox ever had.
   */
  async lastSender(phoneNumber: string): Promise<number | null> {
    const rows: { tenant_id: number }[] = await this.ds.query(
      `SELECT tenant_id FROM sms_messages WHERE phone_number = $1 AND sent_at IS NOT NULL AND NOT test_mode
        ORDER BY sent_at DESC LIMIT 1`,
      [phoneNumber],
    );
    return rows[0]?.tenant_id ?? null;
  }
}
