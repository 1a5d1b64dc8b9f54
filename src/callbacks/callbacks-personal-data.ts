import { PersonalDataPart, redactNumber } from '../core';

/**
 * Callback deliveries in a number's data-subject requests: a payload that names the number is
 * redacted (`redactNumber`: the number, and the texts of an object that named it).
 */
export const callbacksPersonalData: PersonalDataPart = {
  async erase(tx, tenantIds, phone) {
    const deliveries = await tx.rows<{ id: string; payload: unknown }>(
      `SELECT id, payload FROM sms_webhook_deliveries
        WHERE tenant_id = ANY($1::int[]) AND strpos(payload::text, $2::text) > 0 FOR UPDATE`,
      [tenantIds, phone],
    );
    for (const d of deliveries)
      await tx.count('UPDATE sms_webhook_deliveries SET payload = $2 WHERE id = $1', [
        d.id,
        JSON.stringify(redactNumber(d.payload, phone)),
      ]);
    return { callback_deliveries: deliveries.length };
  },
  async export(reads, tenantId, phone) {
    const callback_deliveries = await reads.rows(
      `SELECT event_id, event_type, url, status, attempts, payload, created_at, delivered_at
         FROM sms_webhook_deliveries WHERE tenant_id = $1 AND strpos(payload::text, $2::text) > 0
        ORDER BY created_at, id`,
      [tenantId, phone],
    );
    return { callback_deliveries };
  },
};
