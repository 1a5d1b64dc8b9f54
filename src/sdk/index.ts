export { SmsSdkModule } from './sdk.module';
export { SmsService } from './sms.service';
export type { Actor, SendOutcome } from './sms.service';
