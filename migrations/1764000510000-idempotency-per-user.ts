import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys belong to a tenant AND a user (the token's `sub`): another user of the tenant
 * with the same key has a different key. Existing records take their user from the messages they
 * created; a record without one (never completed) is dropped. `claim_id` marks the request that
 * holds a key still in flight.
 */
export class IdempotencyPerUser1764000510000 implements MigrationInterface {
  name = 'IdempotencyPerUser1764000510000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_idempotency_keys ADD COLUMN user_id varchar(255)');
    // Which request holds an unfinished key: only that one may complete or release it.
    await q.query('ALTER TABLE sms_idempotency_keys ADD COLUMN claim_id uuid');
    await q.query(`
      UPDATE sms_idempotency_keys k SET user_id = m.created_by
        FROM (SELECT DISTINCT ON (tenant_id, idempotency_key) tenant_id, idempotency_key, created_by
                FROM sms_messages WHERE idempotency_key IS NOT NULL
               ORDER BY tenant_id, idempotency_key, created_at DESC) m
       WHERE m.tenant_id = k.tenant_id AND m.idempotency_key = k.key`);
    await q.query('DELETE FROM sms_idempotency_keys WHERE user_id IS NULL');
    await q.query('ALTER TABLE sms_idempotency_keys ALTER COLUMN user_id SET NOT NULL');
    await q.query('ALTER TABLE sms_idempotency_keys DROP CONSTRAINT sms_idempotency_keys_pkey');
    await q.query('ALTER TABLE sms_idempotency_keys ADD PRIMARY KEY (tenant_id, user_id, key)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM sms_idempotency_keys k USING sms_idempotency_keys o
       WHERE o.tenant_id = k.tenant_id AND o.key = k.key AND o.created_at > k.created_at`);
    await q.query('ALTER TABLE sms_idempotency_keys DROP CONSTRAINT sms_idempotency_keys_pkey');
    await q.query('ALTER TABLE sms_idempotency_keys DROP COLUMN user_id');
    await q.query('ALTER TABLE sms_idempotency_keys DROP COLUMN claim_id');
    await q.query('ALTER TABLE sms_idempotency_keys ADD PRIMARY KEY (tenant_id, key)');
  }
}
