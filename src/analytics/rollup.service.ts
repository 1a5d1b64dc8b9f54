import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LockKey } from '../database/advisory-lock';

/** The rollup's unique key and its sums (see migration 1764001100000). */
export const ROLLUP_KEY =
  'tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket';
const SUMS = 'messages, segments, estimated_cost, actual_cost, actual_messages, actual_estimated';

const FOLD_CHUNK = 50_000;

/** The conversion rollup's unique key (see migration 1764003500000). */
const CONVERSION_KEY = 'tenant_id, day, provider, country, message_type, created_by, convert_bucket';

/**
 * Folds `sms_rollup_deltas` (written by the message ledger's triggers, see messaging's sql/) into `sms_daily_rollup`,
 * and `sms_conversion_deltas` (the conversion trigger's) into `sms_conversion_rollup`.
 * Each chunk is one transaction: the deltas are deleted and their sums added together, so a delta
 * is counted exactly once whatever crashes or retries; readers add the deltas not yet folded. The
 * `rollup` job folds on every worker (SMS_ROLLUP_FOLD_INTERVAL_MS); one folds at a time (a
 * transaction-level advisory lock per chunk), the others find it taken and fold nothing.
 */
@Injectable()
export class RollupService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Folds every pending delta; returns how many were folded (0 if another replica is folding). */
  async fold(): Promise<number> {
    return (await this.foldStats()) + (await this.foldConversions());
  }

  private foldStats(): Promise<number> {
    return this.foldChunks(
      `WITH moved AS (
         DELETE FROM sms_rollup_deltas
          WHERE id IN (SELECT id FROM sms_rollup_deltas ORDER BY id LIMIT $1)
         RETURNING *
       ), summed AS (
         SELECT ${ROLLUP_KEY}, sum(messages) AS messages, sum(segments) AS segments,
                sum(estimated_cost) AS estimated_cost, sum(actual_cost) AS actual_cost,
                sum(actual_messages) AS actual_messages, sum(actual_estimated) AS actual_estimated,
                count(*) AS n
           FROM moved GROUP BY ${ROLLUP_KEY}
       ), upserted AS (
         INSERT INTO sms_daily_rollup AS r (${ROLLUP_KEY}, ${SUMS})
         SELECT ${ROLLUP_KEY}, ${SUMS} FROM summed ORDER BY ${ROLLUP_KEY}
         ON CONFLICT (${ROLLUP_KEY}) DO UPDATE SET
           messages = r.messages + EXCLUDED.messages,
           segments = r.segments + EXCLUDED.segments,
           estimated_cost = r.estimated_cost + EXCLUDED.estimated_cost,
           actual_cost = r.actual_cost + EXCLUDED.actual_cost,
           actual_messages = r.actual_messages + EXCLUDED.actual_messages,
           actual_estimated = r.actual_estimated + EXCLUDED.actual_estimated
         RETURNING 1
       )
       SELECT coalesce((SELECT sum(n) FROM summed), 0)::text AS n, (SELECT count(*) FROM upserted) AS u`,
    );
  }

  /** The conversion deltas, the same way. */
  private foldConversions(): Promise<number> {
    return this.foldChunks(
      `WITH moved AS (
         DELETE FROM sms_conversion_deltas
          WHERE id IN (SELECT id FROM sms_conversion_deltas ORDER BY id LIMIT $1)
         RETURNING *
       ), summed AS (
         SELECT ${CONVERSION_KEY}, sum(sent) AS sent, sum(converted) AS converted, count(*) AS n
           FROM moved GROUP BY ${CONVERSION_KEY}
       ), upserted AS (
         INSERT INTO sms_conversion_rollup AS r (${CONVERSION_KEY}, sent, converted)
         SELECT ${CONVERSION_KEY}, sent, converted FROM summed ORDER BY ${CONVERSION_KEY}
         ON CONFLICT (${CONVERSION_KEY}) DO UPDATE SET
           sent = r.sent + EXCLUDED.sent, converted = r.converted + EXCLUDED.converted
         RETURNING 1
       )
       SELECT coalesce((SELECT sum(n) FROM summed), 0)::text AS n, (SELECT count(*) FROM upserted) AS u`,
    );
  }

  /**
   * Runs `sql` (a statement that deletes up to $1 deltas, adds them to their rollup and answers
   * how many it moved as `n`) chunk by chunk, each in a transaction under the fold's advisory lock,
   * until a chunk comes back short; 0 when another replica holds the lock.
   */
  private async foldChunks(sql: string): Promise<number> {
    let total = 0;
    for (;;) {
      const folded = await this.ds.transaction(async (m) => {
        const [{ locked }] = await m.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [
          LockKey.RollupFold,
        ]);
        if (!locked) return 0;
        const rows: { n: string }[] = await m.query(sql, [FOLD_CHUNK]);
        return Number(rows[0].n);
      });
      total += folded;
      if (folded < FOLD_CHUNK) return total;
    }
  }
}
