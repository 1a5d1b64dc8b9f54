import { ERASED_NUMBER, PersonalDataPart } from '../core';

/** The recipient directory (`sms_recipients`) in a number's data-subject requests: the entry stays, its number goes. */
export const directoryPersonalData: PersonalDataPart = {
  async erase(tx, tenantIds, phone) {
    const directory_entries = await tx.count(
      `UPDATE sms_recipients SET phone_number = '${ERASED_NUMBER}', updated_at = now()
        WHERE tenant_id = ANY($1::int[]) AND phone_number = $2`,
      [tenantIds, phone],
    );
    return { directory_entries };
  },
  async export(reads, tenantId, phone) {
    const directory_entries = await reads.rows(
      `SELECT user_id, phone_number, roles, language, timezone, tags, attributes, active, created_at, updated_at
         FROM sms_recipients WHERE tenant_id = $1 AND phone_number = $2 ORDER BY user_id`,
      [tenantId, phone],
    );
    return { directory_entries };
  },
};
