import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fair callback delivery: deliveries are claimed per target, a cap in flight on each, round-robin
 * across targets, and a target that keeps failing is backed off, then (an endpoint) paused.
 *
 * - `sms_webhook_target(endpoint_id, tenant_id, url)`: what a delivery is sent to, for fairness:
 *   its endpoint's id, or for a message's own `status_callback_url` (no endpoint) `url:<tenant>:<host>`,
 *   so every path on one host of one tenant shares one cap. Immutable, so it can be indexed.
 * - `sms_webhook_deliveries.leased_until`: set by the claim, cleared when the attempt is recorded:
 *   a target's deliveries in flight are its rows leased into the future, whichever worker sent them.
 * - `sms_webhook_deliveries_target_due (target, next_attempt_at) WHERE pending` replaces
 *   `sms_webhook_deliveries_due`: the claim walks the targets that have pending rows and takes each
 *   one's oldest due rows from it; `sms_webhook_deliveries_leased` finds the rows in flight.
 * - `sms_webhook_targets`: the health of a target that has failed (no row: healthy): failed
 *   attempts in a row, backed off until, paused at and why.
 *
 * Built without CONCURRENTLY, like every migration here: writes to the outbox wait while the
 * index builds over its pending rows.
 */
export class FairCallbacks1764002500000 implements MigrationInterface {
  name = 'FairCallbacks1764002500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION sms_webhook_target(endpoint_id uuid, tenant_id integer, url text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT COALESCE(endpoint_id::text, 'url:' || tenant_id::text || ':'
          || lower(substring(url from '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]*)')))
      $$`);
    await q.query('ALTER TABLE sms_webhook_deliveries ADD COLUMN leased_until timestamptz');
    await q.query(
      `CREATE INDEX sms_webhook_deliveries_target_due
         ON sms_webhook_deliveries (sms_webhook_target(endpoint_id, tenant_id, url), next_attempt_at)
         WHERE status = 'pending'`,
    );
    await q.query('DROP INDEX sms_webhook_deliveries_due');
    await q.query(
      `CREATE INDEX sms_webhook_deliveries_leased ON sms_webhook_deliveries (leased_until)
         WHERE leased_until IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE sms_webhook_targets (
        target text PRIMARY KEY,
        tenant_id integer NOT NULL,
        endpoint_id uuid REFERENCES sms_webhook_endpoints(id) ON DELETE CASCADE,
        consecutive_failures integer NOT NULL DEFAULT 0,
        backoff_until timestamptz,
        paused_at timestamptz,
        paused_reason varchar(300),
        last_error varchar(500),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sms_webhook_targets_paused_reason CHECK ((paused_at IS NULL) = (paused_reason IS NULL))
      )`);
    await q.query(
      'CREATE INDEX sms_webhook_targets_paused ON sms_webhook_targets (paused_at) WHERE paused_at IS NOT NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_webhook_targets');
    await q.query('DROP INDEX sms_webhook_deliveries_leased');
    await q.query(
      `CREATE INDEX sms_webhook_deliveries_due ON sms_webhook_deliveries (next_attempt_at)
         WHERE status = 'pending'`,
    );
    await q.query('DROP INDEX sms_webhook_deliveries_target_due');
    await q.query('ALTER TABLE sms_webhook_deliveries DROP COLUMN leased_until');
    await q.query('DROP FUNCTION sms_webhook_target(uuid, integer, text)');
  }
}
