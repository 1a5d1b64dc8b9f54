/**
 * SNS's codes read as the service's failure reasons (core/failure-reasons.ts). Pure. Two kinds:
 * - what a Publish call threw, as `classifySnsError` names it (the SDK error's name without
 *   `Exception`: `InvalidParameter`, `OptedOut`, `Throttling`…);
 * - End User Messaging delivery events (`sns-events.ts` keeps the event type: `TEXT_UNREACHABLE`),
 *   and the `messageStatus` words of the same events (`UNREACHABLE`, `MAX_PRICE_EXCEEDED`…).
 */
import type { FailureReason } from '../../core/failure-reasons';

/** A delivery event's type without `TEXT_`, or its messageStatus word. */
const DELIVERY: Readonly<Record<string, FailureReason>> = {
  BLOCKED: 'blocked_by_recipient', // the recipient's device or carrier blocks messages to them
  CARRIER_BLOCKED: 'spam_filtered', // the carrier blocked it as malicious or abusive
  SPAM: 'spam_filtered', // the carrier identified unsolicited commercial content
  CARRIER_UNREACHABLE: 'carrier_unreachable', // a temporary error on the recipient's carrier network
  UNREACHABLE: 'unreachable', // the device is off or not connected to the network
  TTL_EXPIRED: 'delivery_expired', // delivery took longer than the message's TTL
  INVALID: 'invalid_number', // the destination number is not valid
  INVALID_MESSAGE: 'message_invalid', // the body is not valid and cannot be delivered
  PROTECT_BLOCKED: 'destination_not_supported', // blocked by the account's protect configuration
  OPTED_OUT: 'opted_out',
  UNKNOWN: 'unknown_error', // a reason no other event type covers; temporary or permanent
  MAX_PRICE_EXCEEDED: 'provider_account',
  NO_QUOTA_LEFT_ON_ACCOUNT: 'provider_account',
  DESTINATION_COUNTRY_BLOCKED: 'destination_not_supported',
  NO_ORIGINATION_IDENTITY_AVAILABLE: 'sender_not_registered',
};

/** A Publish error's name, as `classifySnsError` stores it. */
const PUBLISH: Readonly<Record<string, FailureReason>> = {
  InvalidParameter: 'invalid_number', // e.g. "Invalid parameter: PhoneNumber"
  InvalidParameterValue: 'invalid_number',
  OptedOut: 'opted_out',
  Throttled: 'rate_limited',
  Throttling: 'rate_limited',
  KMSThrottling: 'rate_limited',
  AuthorizationError: 'provider_account',
  InvalidClientTokenId: 'provider_account',
  SignatureDoesNotMatch: 'provider_account',
  AccessDenied: 'provider_account',
  UnrecognizedClient: 'provider_account',
  InternalError: 'provider_unavailable',
  InternalFailure: 'provider_unavailable',
  ServiceUnavailable: 'provider_unavailable',
  no_message_id: 'provider_unavailable',
};

/** The reason of an SNS code; null: not one listed here. */
export function snsReason(code: string): FailureReason | null {
  const word = code.replace(/^TEXT_/, '');
  if (Object.hasOwn(DELIVERY, word)) return DELIVERY[word];
  return Object.hasOwn(PUBLISH, code) ? PUBLISH[code] : null;
}
