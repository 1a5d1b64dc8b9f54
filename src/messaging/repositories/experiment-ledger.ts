import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** One variant's messages in a running A/B test, counted. */
export interface VariantCounts {
  variant: string;
  /** Accepted since the test began (every status). */
  messages: number;
  delivered: number;
  /** Messages with at least one click on a tracked link (`sms_link_clicks`). */
  clicked: number;
  /** Messages whose code was verified (`converted_at`). */
  converted: number;
  /** Exact decimal sums: what the providers charged, and the estimate at accept. */
  cost: string | null;
  estimatedCost: string | null;
}

/** A past message of the tenant's that got a response: when it went and when it was answered. */
export interface PastResponse {
  phoneNumber: string;
  country: string | null;
  sentAt: Date;
  respondedAt: Date;
}

/*
 * Clicks (tracked links, `sms_link_clicks`: a message's first click, one row per message, joined
 * by message id only: no foreign key to the partitioned ledger). A response is the earlier of a
 * code conversion and a first click.
 */
const CLICKED = `count(*) FILTER (WHERE EXISTS (SELECT 1 FROM sms_link_clicks c WHERE c.message_id = m.id))::int`;
const FIRST_RESPONSE = `LEAST(m.converted_at, (SELECT c.clicked_at FROM sms_link_clicks c WHERE c.message_id = m.id))`;
const RESPONDED = `(m.converted_at IS NOT NULL OR EXISTS (SELECT 1 FROM sms_link_clicks c WHERE c.message_id = m.id))`;

/**
 * The ledger as A/B tests and delivery-time optimisation read it: per-variant outcomes of a
 * template's test, and when a tenant's recipients responded. Reads only; every method takes the
 * tenant id.
 */
@Injectable()
export class ExperimentLedger {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The messages of the template's variants accepted since `since`, per variant. */
  async variantCounts(tenantId: number, templateId: string, since: Date): Promise<VariantCounts[]> {
    const rows: {
      variant: string;
      messages: number;
      delivered: number;
      clicked: number;
      converted: number;
      cost: string | null;
      estimated: string | null;
    }[] = await this.ds.query(
      `SELECT m.variant, count(*)::int AS messages,
              count(*) FILTER (WHERE m.status = 'delivered')::int AS delivered,
              ${CLICKED} AS clicked,
              count(*) FILTER (WHERE m.converted_at IS NOT NULL)::int AS converted,
              sum(m.cost)::text AS cost, sum(m.estimated_cost)::text AS estimated
         FROM sms_messages m
        WHERE m.tenant_id = $1 AND m.template_id = $2 AND m.variant IS NOT NULL AND m.created_at >= $3
        GROUP BY m.variant ORDER BY m.variant`,
      [tenantId, templateId, since],
    );
    return rows.map((r) => ({
      variant: r.variant,
      messages: r.messages,
      delivered: r.delivered,
      clicked: r.clicked,
      converted: r.converted,
      cost: r.cost,
      estimatedCost: r.estimated,
    }));
  }

  /**
   * The responses of these numbers since `since` (newest first, at most `perNumber` each): the
   * history a recipient's best hour is chosen from.
   */
  async responsesOf(
    tenantId: number,
    phoneNumbers: string[],
    since: Date,
    perNumber = 50,
  ): Promise<PastResponse[]> {
    if (phoneNumbers.length === 0) return [];
    const rows: { phone_number: string; country: string | null; sent_at: Date; responded_at: Date }[] =
      await this.ds.query(
        `SELECT phone_number, country, sent_at, responded_at FROM (
           SELECT m.phone_number, m.country, COALESCE(m.sent_at, m.created_at) AS sent_at,
                  ${FIRST_RESPONSE} AS responded_at,
                  row_number() OVER (PARTITION BY m.phone_number ORDER BY m.created_at DESC) AS k
             FROM sms_messages m
            WHERE m.tenant_id = $1 AND m.phone_number = ANY($2::varchar[]) AND m.created_at >= $3
              AND ${RESPONDED}
         ) r WHERE k <= $4`,
        [tenantId, phoneNumbers, since, perNumber],
      );
    return rows.map(toResponse);
  }

  /** The tenant's latest `limit` responses since `since`, whoever sent them: its best hour's history. */
  async tenantResponses(tenantId: number, since: Date, limit = 5000): Promise<PastResponse[]> {
    const rows: { phone_number: string; country: string | null; sent_at: Date; responded_at: Date }[] =
      await this.ds.query(
        `SELECT m.phone_number, m.country, COALESCE(m.sent_at, m.created_at) AS sent_at,
                ${FIRST_RESPONSE} AS responded_at
           FROM sms_messages m
          WHERE m.tenant_id = $1 AND m.created_at >= $2 AND ${RESPONDED}
          ORDER BY m.created_at DESC LIMIT $3`,
        [tenantId, since, limit],
      );
    return rows.map(toResponse);
  }
}

function toResponse(r: {
  phone_number: string;
  country: string | null;
  sent_at: Date;
  responded_at: Date;
}): PastResponse {
  return { phoneNumber: r.phone_number, country: r.country, sentAt: r.sent_at, respondedAt: r.responded_at };
}
