import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Data-subject requests (issue 23, item 1):
 * - `sms_opt_out_hashes`: the suppression list's entries for erased numbers, kept only as a keyed
 *   hash (HMAC-SHA256 under a key derived from SMS_DATA_KEY, base64url), so an erased number stays
 *   refused without being stored in clear;
 * - `sms_privacy_requests`: every erasure and export (the number only as that hash), with an
 *   export's progress and its file (`file`, JSON) until `expires_at`; while an export waits for
 *   its job, the number sealed (AES-256-GCM under SMS_DATA_KEY) in `phone_sealed`, so the job in
 *   Redis carries only the request id.
 */
export class PrivacyRequests1764003900000 implements MigrationInterface {
  name = 'PrivacyRequests1764003900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_opt_out_hashes (
        tenant_id integer NOT NULL REFERENCES tenants(id),
        phone_hash varchar(64) NOT NULL,
        source varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, phone_hash)
      )`);
    await q.query(`
      CREATE TABLE sms_privacy_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind varchar(16) NOT NULL CHECK (kind IN ('erasure', 'export')),
        tenant_id integer NOT NULL REFERENCES tenants(id),
        all_tenants boolean NOT NULL DEFAULT false,
        phone_hash varchar(64) NOT NULL,
        requested_by varchar(64) NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        progress smallint NOT NULL DEFAULT 0,
        counts jsonb,
        file jsonb,
        error varchar(200),
        phone_sealed text,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        expires_at timestamptz
      )`);
    await q.query(
      'CREATE INDEX sms_privacy_requests_tenant ON sms_privacy_requests (tenant_id, created_at DESC, id DESC)',
    );
    await q.query(
      'CREATE INDEX sms_privacy_requests_expiring ON sms_privacy_requests (expires_at) WHERE file IS NOT NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_privacy_requests');
    await q.query('DROP TABLE sms_opt_out_hashes');
  }
}
