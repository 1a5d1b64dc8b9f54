/** Every TypeORM entity, listed as classes (no globs) so the app, the CLI and tests agree. */
import { SmsMessageEntity, SmsMessageEventEntity, SmsPriceEntity } from '../messaging/message.entity';
import { AppointmentEntity } from '../appointments/appointment.entity';
import { SmsTemplateEntity } from '../templates/template.entity';
import { VerificationCodeEntity } from '../verification/verification-code.entity';
import { TenantEntity } from '../tenancy/tenant.entity';

export const ENTITIES = [
  TenantEntity,
  SmsMessageEntity,
  SmsMessageEventEntity,
  SmsPriceEntity,
  SmsTemplateEntity,
  VerificationCodeEntity,
  AppointmentEntity,
];
