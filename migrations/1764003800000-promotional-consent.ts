import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Consent for promotional texts, per tenant, phone number and channel (`sms` now; `whatsapp`
 * later): `sms_consents` holds the current state the accept path reads, `sms_consent_events` the
 * history of every change (append-only: a trigger refuses UPDATE and DELETE). Both are written by
 * one statement, so the state and its history never disagree.
 */
export class PromotionalConsent1764003800000 implements MigrationInterface {
  name = 'PromotionalConsent1764003800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_consents (
        tenant_id integer NOT NULL,
        phone_number varchar(20) NOT NULL,
        channel varchar(16) NOT NULL,
        status varchar(8) NOT NULL CHECK (status IN ('granted', 'revoked', 'unknown')),
        source varchar(64) NOT NULL,
        at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, phone_number, channel)
      )`);
    await q.query(`
      CREATE TABLE sms_consent_events (
        id bigserial PRIMARY KEY,
        tenant_id integer NOT NULL,
        phone_number varchar(20) NOT NULL,
        channel varchar(16) NOT NULL,
        status varchar(8) NOT NULL CHECK (status IN ('granted', 'revoked', 'unknown')),
        source varchar(64) NOT NULL,
        at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        actor varchar(100),
        keyword varchar(64),
        inbound_message_id bigint
      )`);
    await q.query(
      'CREATE INDEX sms_consent_events_tenant_recorded ON sms_consent_events (tenant_id, recorded_at, id)',
    );
    await q.query(
      'CREATE INDEX sms_consent_events_tenant_phone ON sms_consent_events (tenant_id, phone_number, id)',
    );
    await q.query(`
      CREATE FUNCTION sms_consent_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'sms_consent_events is append-only';
      END $$`);
    await q.query(`
      CREATE TRIGGER sms_consent_events_append_only BEFORE UPDATE OR DELETE ON sms_consent_events
        FOR EACH ROW EXECUTE FUNCTION sms_consent_events_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_consent_events');
    await q.query('DROP FUNCTION sms_consent_events_refuse_change()');
    await q.query('DROP TABLE sms_consents');
  }
}
