import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery-time optimisation (issue 25, item 4): a campaign's `send_at` (`now`, the default, or
 * `optimal`) and, for `optimal`, the window in hours from the campaign's start within which each
 * recipient's message is scheduled at their best local hour.
 */
export class CampaignSendAt1764016100000 implements MigrationInterface {
  name = 'CampaignSendAt1764016100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE sms_campaigns ADD COLUMN send_at varchar(16) NOT NULL DEFAULT 'now',
                                 ADD COLUMN optimal_window_hours integer NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_campaigns DROP COLUMN optimal_window_hours, DROP COLUMN send_at');
  }
}
