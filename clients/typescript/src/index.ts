/** Typed client of the SMS service: `createSmsClient({ baseUrl, token })`. */
export { createSmsClient, SmsClient } from './client';
export type * from './client';
export * from './errors';
export { SIGNATURE_HEADER, verifyWebhookSignature } from './webhooks';
export type { components, operations, paths } from './schema';
