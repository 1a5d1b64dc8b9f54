import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages, their event log, idempotency records and the price table.
 * `sms_messages` is the source of truth for every message; Redis only carries work.
 */
export class CreateMessages1764000100000 implements MigrationInterface {
  name = 'CreateMessages1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_messages (
        id uuid PRIMARY KEY,
        tenant_id integer NOT NULL REFERENCES tenants(id),
        user_id varchar(64),
        created_by varchar(64) NOT NULL,
        phone_number varchar(20) NOT NULL,
        body text NOT NULL,
        body_ciphertext text,
        message_type varchar(40) NOT NULL,
        language varchar(8) NOT NULL DEFAULT 'en',
        template_id varchar(100),
        status varchar(20) NOT NULL,
        provider varchar(20),
        provider_message_id varchar(100),
        segments smallint NOT NULL,
        encoding varchar(8) NOT NULL,
        estimated_cost numeric(12,6),
        cost numeric(12,6),
        currency char(3) NOT NULL,
        attempts smallint NOT NULL DEFAULT 0,
        error_code varchar(100),
        error_message text,
        scheduled_at timestamptz,
        sent_at timestamptz,
        delivered_at timestamptz,
        batch_id uuid,
        campaign_id uuid,
        idempotency_key varchar(255),
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sms_messages_status_check CHECK (status IN
          ('scheduled','queued','sending','sent','delivered','undelivered','failed','canceled'))
      )`);
    // History: newest first per tenant, optionally per creator / user / status / batch.
    await q.query(
      'CREATE INDEX sms_messages_tenant_created ON sms_messages (tenant_id, created_at DESC, id DESC)',
    );
    await q.query(
      'CREATE INDEX sms_messages_tenant_creator ON sms_messages (tenant_id, created_by, created_at DESC)',
    );
    await q.query(
      'CREATE INDEX sms_messages_tenant_user ON sms_messages (tenant_id, user_id, created_at DESC)',
    );
    await q.query(
      'CREATE INDEX sms_messages_tenant_phone ON sms_messages (tenant_id, phone_number, created_at DESC)',
    );
    await q.query('CREATE INDEX sms_messages_batch ON sms_messages (batch_id) WHERE batch_id IS NOT NULL');
    await q.query(
      'CREATE INDEX sms_messages_campaign ON sms_messages (campaign_id) WHERE campaign_id IS NOT NULL',
    );
    // Sweeper and reconciliation: only the few non-terminal rows.
    await q.query(
      `CREATE INDEX sms_messages_pending ON sms_messages (status, updated_at)
         WHERE status IN ('scheduled','queued','sending','sent')`,
    );
    await q.query(
      `CREATE UNIQUE INDEX sms_messages_provider_id ON sms_messages (provider, provider_message_id)
         WHERE provider_message_id IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE sms_message_events (
        id bigserial PRIMARY KEY,
        message_id uuid NOT NULL REFERENCES sms_messages(id) ON DELETE CASCADE,
        status varchar(20) NOT NULL,
        source varchar(30) NOT NULL,
        payload jsonb,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX sms_message_events_message ON sms_message_events (message_id, at)');
    await q.query(`
      CREATE TABLE sms_idempotency_keys (
        tenant_id integer NOT NULL,
        key varchar(255) NOT NULL,
        request_hash char(64) NOT NULL,
        status_code smallint,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, key)
      )`);
    await q.query('CREATE INDEX sms_idempotency_keys_created ON sms_idempotency_keys (created_at)');
    await q.query(`
      CREATE TABLE sms_prices (
        provider varchar(20) NOT NULL,
        country char(2) NOT NULL,
        price_per_segment numeric(10,6) NOT NULL CHECK (price_per_segment >= 0),
        currency char(3) NOT NULL DEFAULT 'USD',
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (provider, country)
      )`);
    // Defaults (USD per outbound segment), from the providers' public price lists of 2026;
    // 'ZZ' is the fallback for countries not listed. Edit rows to match your contracts.
    await q.query(`
      INSERT INTO sms_prices (provider, country, price_per_segment) VALUES
        ('twilio', 'US', 0.0083), ('twilio', 'CA', 0.0083), ('twilio', 'GB', 0.0524),
        ('twilio', 'DE', 0.0895), ('twilio', 'TR', 0.0310), ('twilio', 'ZZ', 0.0900),
        ('sns', 'US', 0.00645), ('sns', 'CA', 0.00645), ('sns', 'GB', 0.0463),
        ('sns', 'DE', 0.0865), ('sns', 'TR', 0.0285), ('sns', 'ZZ', 0.0900),
        ('sandbox', 'ZZ', 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_prices');
    await q.query('DROP TABLE sms_idempotency_keys');
    await q.query('DROP TABLE sms_message_events');
    await q.query('DROP TABLE sms_messages');
  }
}
