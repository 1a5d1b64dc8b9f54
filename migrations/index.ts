/** Every migration, in order. Never edit a committed migration: add a new one. */
import { CreateTenants1764000000000 } from './1764000000000-create-tenants';
import { CreateMessages1764000100000 } from './1764000100000-create-messages';
import { CreateTemplates1764000200000 } from './1764000200000-create-templates';
import { CreateVerificationAndAppointments1764000300000 } from './1764000300000-create-verification-and-appointments';
import { CreateOptOuts1764000400000 } from './1764000400000-create-opt-outs';
import { IdempotencyPerUser1764000510000 } from './1764000510000-idempotency-per-user';
import { SmsBatches1764000520000 } from './1764000520000-sms-batches';
import { MessageStatusUnknown1764000550000 } from './1764000550000-message-status-unknown';
import { CreateAuditLog1764000850000 } from './1764000850000-create-audit-log';
import { AppointmentsCreatedBy1764000860000 } from './1764000860000-appointments-created-by';
// c1: campaigns
import { TemplateCustomTypes1764001000000 } from './1764001000000-template-custom-types';
import { SmsRecipients1764001010000 } from './1764001010000-sms-recipients';
import { SmsCampaigns1764001020000 } from './1764001020000-sms-campaigns';

export const MIGRATIONS = [
  CreateTenants1764000000000,
  CreateMessages1764000100000,
  CreateTemplates1764000200000,
  CreateVerificationAndAppointments1764000300000,
  CreateOptOuts1764000400000,
  IdempotencyPerUser1764000510000,
  SmsBatches1764000520000,
  MessageStatusUnknown1764000550000,
  CreateAuditLog1764000850000,
  AppointmentsCreatedBy1764000860000,
  // c1: campaigns
  TemplateCustomTypes1764001000000,
  SmsRecipients1764001010000,
  SmsCampaigns1764001020000,
];
