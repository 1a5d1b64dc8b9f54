import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenants' own provider accounts (issue 23, item 4): at most one per tenant and provider. The
 * credentials are sealed with envelope encryption: `ciphertext`/`iv`/`tag` (AES-256-GCM under a
 * per-record data key) and `wrapped_key` (that data key under the key `key_id` names). `public`
 * holds what may be shown (the SID or key id's last 4, region, sender); `version` grows on every
 * change so each process rebuilds its cached provider for the account.
 */
export class ProviderAccounts1764004000000 implements MigrationInterface {
  name = 'ProviderAccounts1764004000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_provider_accounts (
        id bigserial PRIMARY KEY,
        tenant_id integer NOT NULL,
        provider varchar(16) NOT NULL CHECK (provider IN ('twilio', 'sns')),
        version integer NOT NULL DEFAULT 1,
        key_id varchar(64) NOT NULL,
        wrapped_key bytea NOT NULL,
        ciphertext bytea NOT NULL,
        iv bytea NOT NULL,
        tag bytea NOT NULL,
        public jsonb NOT NULL,
        checked_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, provider)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_provider_accounts');
  }
}
