/** Every TypeORM entity, listed as classes (no globs) so the app, the CLI and tests agree. */
import { SmsMessageEntity, SmsMessageEventEntity, SmsPriceEntity } from '../messaging';
import { AppointmentEntity } from '../appointments';
import { SmsTemplateEntity } from '../templates';
import { VerificationCodeEntity } from '../verification';
import { TenantEntity } from '../tenancy';

export const ENTITIES = [
  TenantEntity,
  SmsMessageEntity,
  SmsMessageEventEntity,
  SmsPriceEntity,
  SmsTemplateEntity,
  VerificationCodeEntity,
  AppointmentEntity,
];
