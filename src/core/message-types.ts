/** Vocabulary shared by every module. Pure: imports nothing from Nest, TypeORM or Redis. */

/** The five types the service knows; only these are accepted by `/send` as free text. */
export const MESSAGE_TYPES = [
  'appointment_reminder',
  'assessment_notification',
  'password_reset',
  '2fa_code',
  'general_notification',
] as const;
export type BuiltInMessageType = (typeof MESSAGE_TYPES)[number];

/**
 * A tenant's template may name its own type (a lowercase slug, e.g. `welcome_message`); stored,
 * grouped and filtered like a built-in one. `string & Record<never, never>` keeps the built-in
 * names as literal types (completion, `includes` checks) while admitting any slug.
 */
export type MessageType = BuiltInMessageType | (string & Record<never, never>);

/** What a custom message type must look like. */
export const CUSTOM_MESSAGE_TYPE = /^[a-z][a-z0-9_]{1,48}$/;

export function isBuiltInMessageType(type: string): type is BuiltInMessageType {
  return (MESSAGE_TYPES as readonly string[]).includes(type);
}

/** A built-in type or a custom slug, as one pattern (for DTO validation). */
export const MESSAGE_TYPE_PATTERN = new RegExp(
  `^(?:${MESSAGE_TYPES.join('|')}|${CUSTOM_MESSAGE_TYPE.source.slice(1, -1)})$`,
);

/** A built-in type, or a slug a template may name. */
export function isValidMessageType(type: string): boolean {
  return isBuiltInMessageType(type) || CUSTOM_MESSAGE_TYPE.test(type);
}

/** Message types whose body carries a secret code: stored and shown redacted, never logged. */
export const CODE_MESSAGE_TYPES: readonly MessageType[] = ['password_reset', '2fa_code'];

/**
 * Time-critical or personal messages go as transactional SMS; the rest as promotional. A custom
 * type is promotional unless its template says `transactional: true` (passed as `declared`).
 */
export function isTransactional(type: MessageType, declared?: boolean | null): boolean {
  if (isBuiltInMessageType(type)) return type !== 'general_notification';
  return declared === true;
}

export const LANGUAGES = ['en', 'tr'] as const;
export type Language = (typeof LANGUAGES)[number];

export const MESSAGE_STATUSES = [
  'scheduled',
  'queued',
  'sending',
  /** A provider may or may not have taken it (e.g. a timeout): never resent automatically. */
  'unknown',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'canceled',
  /** Not handed to a provider within its validity period: never sent, never charged. */
  'expired',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export type ProviderName = 'twilio' | 'sns' | 'sandbox';
