/**
 * Twilio's error codes read as the service's failure reasons (core/failure-reasons.ts). Pure. The
 * codes are those of Twilio's error dictionary that an SMS send or a status callback gives; a
 * code not listed here is `unknown_error` (its number still shows in the sentence).
 */
import type { FailureReason } from '../../core/failure-reasons';

export const TWILIO_REASONS: Readonly<Record<number, FailureReason>> = {
  // The 'To' number
  21211: 'invalid_number', // Invalid 'To' phone number
  21217: 'invalid_number', // Phone number does not appear to be valid
  21401: 'invalid_number', // Invalid phone number
  21421: 'invalid_number', // PhoneNumber is invalid
  21604: 'invalid_number', // A 'To' phone number is required
  21407: 'not_mobile', // This phone number type does not support SMS
  21614: 'not_mobile', // 'To' number is not a valid mobile number
  21635: 'not_mobile', // 'To' number cannot be a landline
  30006: 'not_mobile', // Landline or unreachable carrier
  21610: 'opted_out', // Attempt to send to an unsubscribed recipient (STOP)
  21408: 'destination_not_supported', // Permission to send an SMS has not been enabled for the region
  21612: 'destination_not_supported', // The 'To' number is not currently reachable via SMS (from this sender)
  // Delivery (status callbacks)
  30003: 'unreachable', // Unreachable destination handset
  30004: 'blocked_by_recipient', // Message blocked
  30005: 'number_not_in_service', // Unknown destination handset
  30007: 'spam_filtered', // Message filtered (carrier violation)
  30008: 'unknown_error', // Unknown error
  30036: 'delivery_expired', // Validity period expired (waited in Twilio's queue too long)
  30410: 'provider_unavailable', // Provider timeout error (Twilio's downstream provider)
  // The text
  21602: 'message_invalid', // Message body is required
  21617: 'message_invalid', // The concatenated message body exceeds the 1600 character limit
  // The sender
  21212: 'sender_not_registered', // Invalid 'From' number
  21606: 'sender_not_registered', // The 'From' number is not a valid, SMS-capable number for this account
  21660: 'sender_not_registered', // Mismatch between the 'From' number and the account
  30032: 'sender_not_registered', // Toll-free number has not been verified
  30034: 'sender_not_registered', // US A2P 10DLC: message from an unregistered number
  // Rates and queues
  20429: 'rate_limited', // Too many requests
  21611: 'rate_limited', // This 'From' number has exceeded the maximum number of queued messages
  30001: 'rate_limited', // Queue overflow
  30022: 'rate_limited', // US A2P 10DLC: rate limits exceeded
  30023: 'rate_limited', // US A2P 10DLC: daily message cap reached
  30027: 'rate_limited', // US A2P 10DLC: T-Mobile daily message limit reached
  // The account
  20003: 'provider_account', // Authentication failed
  21608: 'provider_account', // Trial account: the 'To' number is not verified
  30002: 'provider_account', // Account suspended
  30010: 'provider_account', // Message price exceeds the max price
};

/** The words our own Twilio classifier writes (twilio.provider.ts `classifyTwilioError`). */
const WORDS: Readonly<Record<string, FailureReason>> = {
  auth: 'provider_account',
  unknown: 'unknown_error',
};

/** The reason of a Twilio code (`30005`, `http_503`, `auth`); null: not one listed here. */
export function twilioReason(code: string): FailureReason | null {
  if (/^\d{1,6}$/.test(code)) return TWILIO_REASONS[Number(code)] ?? null;
  const http = /^http_(\d{3})$/.exec(code);
  if (http) {
    const status = Number(http[1]);
    if (status === 429) return 'rate_limited';
    if (status === 401 || status === 403) return 'provider_account';
    return status >= 500 ? 'provider_unavailable' : 'unknown_error';
  }
  return Object.hasOwn(WORDS, code) ? WORDS[code] : null;
}
