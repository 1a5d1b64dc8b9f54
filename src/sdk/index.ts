export { SmsSdkModule } from './sdk.module';
export { REMINDER_USER, SmsService } from './sms.service';
export type { Actor, SendOutcome } from './sms.service';
export { SIGNATURE_HEADER, verifyWebhookSignature } from '../callbacks'; // Receivers verify callbacks with it
