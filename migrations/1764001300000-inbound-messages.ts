import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two-way SMS: texts recipients send to our numbers, and the history of every opt-out change
 * (who, when, which keyword, which inbound message). Also an index to find the tenant that last
 * texted a phone (the owner of a reply on a number shared by tenants).
 */
export class InboundMessages1764001300000 implements MigrationInterface {
  name = 'InboundMessages1764001300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_inbound_messages (
        id bigserial PRIMARY KEY,
        tenant_id integer REFERENCES tenants(id),
        provider varchar(20) NOT NULL,
        provider_message_id varchar(100) NOT NULL,
        from_number varchar(20) NOT NULL,
        to_number varchar(20) NOT NULL,
        body text NOT NULL,
        keyword varchar(10),
        language varchar(8),
        received_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sms_inbound_keyword_check CHECK (keyword IN ('stop','start','help')),
        CONSTRAINT sms_inbound_provider_id UNIQUE (provider, provider_message_id)
      )`);
    await q.query(
      'CREATE INDEX sms_inbound_tenant_received ON sms_inbound_messages (tenant_id, received_at DESC, id DESC)',
    );
    await q.query(`
      CREATE TABLE sms_opt_out_events (
        id bigserial PRIMARY KEY,
        tenant_id integer NOT NULL REFERENCES tenants(id),
        phone_number varchar(20) NOT NULL,
        action varchar(10) NOT NULL CHECK (action IN ('opt_out','opt_in')),
        source varchar(40) NOT NULL,
        actor varchar(64),
        keyword varchar(64),
        inbound_message_id bigint REFERENCES sms_inbound_messages(id) ON DELETE SET NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      'CREATE INDEX sms_opt_out_events_tenant_phone ON sms_opt_out_events (tenant_id, phone_number, at DESC)',
    );
    // Who last texted this phone, across tenants (the reply's tenant on a shared number).
    await q.query('CREATE INDEX sms_messages_phone_created ON sms_messages (phone_number, created_at DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX sms_messages_phone_created');
    await q.query('DROP TABLE sms_opt_out_events');
    await q.query('DROP TABLE sms_inbound_messages');
  }
}
