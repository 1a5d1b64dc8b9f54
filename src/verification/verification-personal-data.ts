import { PersonalDataPart } from '../core';

/** Verification codes in a number's data-subject requests: erased outright; never exported (only hashes). */
export const verificationPersonalData: PersonalDataPart = {
  async erase(tx, tenantIds, phone) {
    const verification_rows = await tx.count(
      'DELETE FROM sms_verification_codes WHERE tenant_id = ANY($1::int[]) AND phone_number = $2',
      [tenantIds, phone],
    );
    return { verification_rows };
  },
  async export() {
    return {};
  },
};
