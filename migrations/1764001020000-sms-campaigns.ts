import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Campaigns: a template sent to the recipients a filter selects. Execution snapshots each
 * recipient into one `sms_messages` row (unique per campaign and recipient, so a retried
 * snapshot never writes a second) or one `sms_campaign_skips` row naming why not.
 */
export class SmsCampaigns1764001020000 implements MigrationInterface {
  name = 'SmsCampaigns1764001020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_campaigns (
        id uuid PRIMARY KEY,
        tenant_id integer NOT NULL,
        name varchar(200) NOT NULL,
        template_id varchar(100) NOT NULL,
        recipient_filters jsonb NOT NULL,
        variables jsonb NOT NULL DEFAULT '{}',
        status varchar(20) NOT NULL
          CONSTRAINT sms_campaigns_status_check CHECK (status IN ('draft', 'scheduled', 'running', 'completed', 'canceled')),
        scheduled_for timestamptz,
        created_by varchar(64) NOT NULL,
        total_recipients integer NOT NULL DEFAULT 0,
        snapshot_cursor varchar(64),
        snapshot_done boolean NOT NULL DEFAULT false,
        started_at timestamptz,
        completed_at timestamptz,
        canceled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX sms_campaigns_tenant ON sms_campaigns (tenant_id, created_at DESC, id DESC)');
    await q.query(
      "CREATE INDEX sms_campaigns_due ON sms_campaigns (scheduled_for) WHERE status IN ('scheduled', 'running')",
    );
    await q.query(`
      CREATE TABLE sms_campaign_skips (
        campaign_id uuid NOT NULL,
        user_id varchar(64) NOT NULL,
        reason varchar(40) NOT NULL,
        PRIMARY KEY (campaign_id, user_id)
      )`);
    await q.query('ALTER TABLE sms_messages ADD COLUMN recipient_user_id varchar(64)');
    // Partial: only campaign messages carry a recipient; the index stays as small as they are.
    await q.query(`CREATE UNIQUE INDEX sms_messages_campaign_recipient
                     ON sms_messages (campaign_id, recipient_user_id) WHERE campaign_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX sms_messages_campaign_recipient');
    await q.query('ALTER TABLE sms_messages DROP COLUMN recipient_user_id');
    await q.query('DROP TABLE sms_campaign_skips');
    await q.query('DROP TABLE sms_campaigns');
  }
}
