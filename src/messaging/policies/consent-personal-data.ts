import { ERASED_NUMBER, PersonalDataPart } from '../../core';

/**
 * Promotional consent in a number's data-subject requests. An erasure deletes the current state
 * (the number stays refused anyway, by its hash) and keeps every change in the history with the
 * number redacted (the append-only trigger lets exactly that through).
 */
export const consentPersonalData: PersonalDataPart = {
  async erase(tx, tenantIds, phone) {
    const consents = await tx.count(
      'DELETE FROM sms_consents WHERE tenant_id = ANY($1::int[]) AND phone_number = $2',
      [tenantIds, phone],
    );
    const consent_events = await tx.count(
      `UPDATE sms_consent_events SET phone_number = '${ERASED_NUMBER}'
        WHERE tenant_id = ANY($1::int[]) AND phone_number = $2`,
      [tenantIds, phone],
    );
    return { consents, consent_events };
  },
  async export(reads, tenantId, phone) {
    const consent_history = await reads.rows(
      `SELECT channel, status, source, at, recorded_at, actor, keyword FROM sms_consent_events
        WHERE tenant_id = $1 AND phone_number = $2 ORDER BY id`,
      [tenantId, phone],
    );
    return { consent_history };
  },
};
