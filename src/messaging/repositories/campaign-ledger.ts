import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** A campaign's messages, counted: what its status shows and its completion waits for. */
export interface CampaignProgress {
  /** Messages by status. */
  counts: Record<string, number>;
  messages: number;
  /** Messages in a final status (handed over, or canceled). */
  final: number;
  /** Exact decimal sums; the estimate is null while any message has no price. */
  estimatedCost: string | null;
  actualCost: string | null;
}

/** The statuses a campaign's message ends in: it was handed to a provider, canceled or expired. */
const FINAL = ['sent', 'delivered', 'undelivered', 'failed', 'canceled', 'expired'];

/**
 * The campaign feature's view of the message ledger: its messages' progress, and the cancel of
 * those no provider has seen. Every method takes the tenant id.
 */
@Injectable()
export class CampaignLedger {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async progress(tenantId: number, campaignId: string): Promise<CampaignProgress> {
    // Per status, and the exact totals over every status (window sums of the group sums).
    const rows: {
      status: string;
      n: number;
      unpriced: number;
      est_total: string | null;
      cost_total: string | null;
    }[] = await this.ds.query(
      `SELECT status, count(*)::int AS n, count(*) FILTER (WHERE estimated_cost IS NULL)::int AS unpriced,
              sum(sum(estimated_cost)) OVER ()::text AS est_total, sum(sum(cost)) OVER ()::text AS cost_total
         FROM sms_messages WHERE tenant_id = $1 AND campaign_id = $2 GROUP BY status`,
      [tenantId, campaignId],
    );
    const counts: Record<string, number> = {};
    let messages = 0;
    let final = 0;
    let unpriced = 0;
    for (const r of rows) {
      counts[r.status] = r.n;
      messages += r.n;
      if (FINAL.includes(r.status)) final += r.n;
      unpriced += r.unpriced;
    }
    return {
      counts,
      messages,
      final,
      estimatedCost: unpriced > 0 ? null : (rows[0]?.est_total ?? null),
      actualCost: rows[0]?.cost_total ?? null,
    };
  }

  /**
   * Cancels the campaign's messages no provider has seen (queued, scheduled), with their events,
   * in the caller's transaction (the campaign's own cancel).
   */
  async cancelWaiting(m: EntityManager, tenantId: number, campaignId: string, at: Date): Promise<void> {
    await m.query(
      `WITH canceled AS (
         UPDATE sms_messages SET status = 'canceled', body_ciphertext = NULL, updated_at = $3
          WHERE tenant_id = $1 AND campaign_id = $2 AND status IN ('queued', 'scheduled')
          RETURNING id
       )
       INSERT INTO sms_message_events (message_id, status, source, at)
       SELECT id, 'canceled', 'campaign', $3 FROM canceled`,
      [tenantId, campaignId, at],
    );
  }
}
