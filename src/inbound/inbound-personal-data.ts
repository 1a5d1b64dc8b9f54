import { ERASED_BODY, ERASED_NUMBER, PersonalDataPart } from '../core';

/**
 * Inbound texts in a number's data-subject requests. An erasure redacts the sender and the text;
 * a text no tenant could be told of (tenant_id NULL) goes with an erasure for all tenants.
 */
export const inboundPersonalData: PersonalDataPart = {
  async erase(tx, tenantIds, phone, allTenants) {
    const inbound_messages = await tx.count(
      `UPDATE sms_inbound_messages SET from_number = '${ERASED_NUMBER}', body = '${ERASED_BODY}'
        WHERE from_number = $2 AND (tenant_id = ANY($1::int[]) OR ($3 AND tenant_id IS NULL))`,
      [tenantIds, phone, allTenants],
    );
    return { inbound_messages };
  },
  async export(reads, tenantId, phone) {
    const inbound_messages = await reads.rows(
      `SELECT id, provider, to_number, body, keyword, language, received_at FROM sms_inbound_messages
        WHERE tenant_id = $1 AND from_number = $2 ORDER BY received_at, id`,
      [tenantId, phone],
    );
    return { inbound_messages };
  },
};
