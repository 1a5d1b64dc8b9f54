import { ERASED_NUMBER, PersonalDataPart } from '../core';

/**
 * Appointments in a number's data-subject requests. An erased appointment keeps its time and place
 * for the tenant, and no reminder goes to the erased number (it counts as reminded).
 */
export const appointmentsPersonalData: PersonalDataPart = {
  async erase(tx, tenantIds, phone) {
    const appointments = await tx.count(
      `UPDATE sms_appointments SET phone_number = '${ERASED_NUMBER}', reminder_sent_at = coalesce(reminder_sent_at, now())
        WHERE tenant_id = ANY($1::int[]) AND phone_number = $2`,
      [tenantIds, phone],
    );
    return { appointments };
  },
  async export(reads, tenantId, phone) {
    const appointments = await reads.rows(
      `SELECT appointment_id, starts_at, trainer_name, location, language, timezone, reminder_sent_at, created_at
         FROM sms_appointments WHERE tenant_id = $1 AND phone_number = $2 ORDER BY starts_at`,
      [tenantId, phone],
    );
    return { appointments };
  },
};
