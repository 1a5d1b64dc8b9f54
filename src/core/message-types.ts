/** Vocabulary shared by every module. Pure: imports nothing from Nest, TypeORM or Redis. */

export const MESSAGE_TYPES = [
  'appointment_reminder',
  'assessment_notification',
  'password_reset',
  '2fa_code',
  'general_notification',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Message types whose body carries a secret code: stored and shown redacted, never logged. */
export const CODE_MESSAGE_TYPES: readonly MessageType[] = ['password_reset', '2fa_code'];

/** Time-critical or personal messages go as transactional SMS; the rest as promotional. */
export function isTransactional(type: MessageType): boolean {
  return type !== 'general_notification';
}

export const LANGUAGES = ['en', 'tr'] as const;
export type Language = (typeof LANGUAGES)[number];

export const MESSAGE_STATUSES = [
  'scheduled',
  'queued',
  'sending',
  'unknown',
  'sent',
  /** A provider may or may not have taken it (e.g. a timeout): never resent automatically. */
  'unknown',
  'delivered',
  'undelivered',
  'failed',
  'canceled',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export type ProviderName = 'twilio' | 'sns' | 'sandbox';
