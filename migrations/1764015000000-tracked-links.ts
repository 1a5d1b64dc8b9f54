import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tracked links (docs/sending.md#tracked-links). `sms_links`: one row per (message, URL), the
 * short code that stands for the URL in the message's body, and the URL it redirects to (NULL once
 * redacted: body retention, erasure). `sms_link_clicks`: a message's first click, one row per
 * message, with the campaign, template and variant copied from its link so stats need not read
 * the ledger (and survive its purge until the links' own).
 *
 * No foreign key to sms_messages (it is to become partitioned by month): `message_id` is stored
 * with an index, and the links of purged messages are purged by the retention job.
 */
export class TrackedLinks1764015000000 implements MigrationInterface {
  name = 'TrackedLinks1764015000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_links (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        code varchar(16) NOT NULL,
        tenant_id integer NOT NULL,
        message_id uuid NOT NULL,
        campaign_id uuid,
        template_id varchar(100),
        variant varchar(100),
        target_url text,
        created_at timestamptz NOT NULL DEFAULT now(),
        hits integer NOT NULL DEFAULT 0,
        first_clicked_at timestamptz,
        last_clicked_at timestamptz,
        redacted_at timestamptz,
        CONSTRAINT sms_links_code UNIQUE (code)
      )`);
    await q.query('CREATE INDEX sms_links_message ON sms_links (message_id)');
    await q.query('CREATE INDEX sms_links_tenant_created ON sms_links (tenant_id, created_at)');
    // The retention job's purge of links whose message is gone, by age.
    await q.query('CREATE INDEX sms_links_created ON sms_links (created_at)');
    await q.query(`
      CREATE TABLE sms_link_clicks (
        message_id uuid PRIMARY KEY,
        link_id bigint NOT NULL REFERENCES sms_links (id) ON DELETE CASCADE,
        tenant_id integer NOT NULL,
        campaign_id uuid,
        template_id varchar(100),
        variant varchar(100),
        sent_at timestamptz NOT NULL,
        clicked_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX sms_link_clicks_link ON sms_link_clicks (link_id)');
    await q.query('CREATE INDEX sms_link_clicks_tenant_clicked ON sms_link_clicks (tenant_id, clicked_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_link_clicks');
    await q.query('DROP TABLE sms_links');
  }
}
