/** Every TypeORM entity, listed as classes (no globs) so the app, the CLI and tests agree. */
import { SmsMessageEntity, SmsMessageEventEntity, SmsPriceEntity } from '../messaging/message.entity';
import { SmsTemplateEntity } from '../templates/template.entity';
import { TenantEntity } from '../tenancy/tenant.entity';

export const ENTITIES = [
  TenantEntity,
  SmsMessageEntity,
  SmsMessageEventEntity,
  SmsPriceEntity,
  SmsTemplateEntity,
];
