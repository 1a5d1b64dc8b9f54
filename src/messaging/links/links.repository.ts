import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** What a click found: the URL to redirect to, a redacted link (no URL any more), or nothing. */
export type ClickTarget = { kind: 'redirect'; url: string } | { kind: 'gone' } | { kind: 'unknown' };

/** How link stats are grouped. */
export type LinkStatsGroup = 'campaign' | 'template' | 'variant';

export interface LinkStatsRow {
  campaign_id: string | null;
  template_id: string | null;
  variant: string | null;
  /** Messages accepted in the period with at least one tracked link. */
  messages: number;
  /** Of those, the messages clicked at least once (a message counts once). */
  clicked: number;
  /** Every request to their links, repeated clicks included. */
  hits: number;
}

const GROUP_KEYS: Record<LinkStatsGroup, string[]> = {
  campaign: ['campaign_id'],
  template: ['template_id'],
  variant: ['template_id', 'variant'],
};

/**
 * `sms_links` and `sms_link_clicks` (migration 1764015000000): the redirect's lookups and clicks,
 * and the tenant's stats. Links are written with their messages (MessagesRepository.insertMany /
 * insertCampaignChunk); retention and erasure redact or purge them with their messages
 * (SystemMessagesRepository, PrivacyLedger).
 */
@Injectable()
export class LinksRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * A click on `code`: counts the hit and, the first time any link of its message is clicked, the
   * message's click (one row per message: a repeated or concurrent click changes nothing there).
   * One statement. A redacted link is `gone` and counts nothing.
   */
  async click(code: string, at: Date): Promise<ClickTarget> {
    const rows: { target_url: string }[] = await this.ds.query(
      `WITH l AS (
         UPDATE sms_links SET hits = hits + 1, first_clicked_at = coalesce(first_clicked_at, $2),
                last_clicked_at = $2
          WHERE code = $1 AND target_url IS NOT NULL
          RETURNING id, tenant_id, message_id, campaign_id, template_id, variant, target_url, created_at
       ), c AS (
         INSERT INTO sms_link_clicks (message_id, link_id, tenant_id, campaign_id, template_id, variant, sent_at, clicked_at)
         SELECT message_id, id, tenant_id, campaign_id, template_id, variant, created_at, $2 FROM l
         ON CONFLICT (message_id) DO NOTHING
       )
       SELECT target_url FROM l`,
      [code, at],
    );
    if (rows.length > 0) return { kind: 'redirect', url: rows[0].target_url };
    return this.peek(code);
  }

  /** Where `code` leads, counting nothing (a HEAD request, a link preview's probe). */
  async peek(code: string): Promise<ClickTarget> {
    const rows: { target_url: string | null }[] = await this.ds.query(
      'SELECT target_url FROM sms_links WHERE code = $1',
      [code],
    );
    if (rows.length === 0) return { kind: 'unknown' };
    return rows[0].target_url === null ? { kind: 'gone' } : { kind: 'redirect', url: rows[0].target_url };
  }

  /**
   * One tenant's tracked messages accepted in [start, end) and their clicks, grouped; every group
   * with a tracked message in the period is listed, clicked or not.
   */
  async stats(
    tenantId: number,
    start: Date,
    end: Date,
    groupBy: LinkStatsGroup,
    campaignId?: string,
  ): Promise<LinkStatsRow[]> {
    const keys = GROUP_KEYS[groupBy];
    const cols = ['campaign_id', 'template_id', 'variant'].map((c) =>
      keys.includes(c) ? `m.${c}` : `NULL::text AS ${c}`,
    );
    const group = keys.map((k) => `m.${k}`).join(', ');
    const rows: (Omit<LinkStatsRow, 'messages' | 'clicked' | 'hits'> & {
      messages: string;
      clicked: string;
      hits: string;
    })[] = await this.ds.query(
      `WITH m AS (
         SELECT message_id, campaign_id::text AS campaign_id, template_id, variant, sum(hits) AS hits
           FROM sms_links
          WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
            AND ($4::uuid IS NULL OR campaign_id = $4::uuid)
          GROUP BY message_id, campaign_id, template_id, variant
       )
       SELECT ${cols.join(', ')}, count(*) AS messages, count(c.message_id) AS clicked,
              coalesce(sum(m.hits), 0) AS hits
         FROM m LEFT JOIN sms_link_clicks c ON c.message_id = m.message_id
        GROUP BY ${group}
        ORDER BY count(*) DESC, ${group}
        LIMIT 1000`,
      [tenantId, start, end, campaignId ?? null],
    );
    return rows.map((r) => ({
      campaign_id: r.campaign_id,
      template_id: r.template_id,
      variant: r.variant,
      messages: Number(r.messages),
      clicked: Number(r.clicked),
      hits: Number(r.hits),
    }));
  }
}
