/** Every migration, in order. Never edit a committed migration: add a new one. */
import { CreateTenants1764000000000 } from './1764000000000-create-tenants';
import { CreateMessages1764000100000 } from './1764000100000-create-messages';
import { CreateTemplates1764000200000 } from './1764000200000-create-templates';
import { CreateVerificationAndAppointments1764000300000 } from './1764000300000-create-verification-and-appointments';
import { CreateOptOuts1764000400000 } from './1764000400000-create-opt-outs';
import { IdempotencyPerUser1764000510000 } from './1764000510000-idempotency-per-user';
import { SmsBatches1764000520000 } from './1764000520000-sms-batches';
import { PendingIndexUnknown1764000525000 } from './1764000525000-pending-index-unknown';
import { CreateParkedReceipts1764000530000 } from './1764000530000-create-parked-receipts';
import { MessageStatusUnknown1764000550000 } from './1764000550000-message-status-unknown';
import { CreateAuditLog1764000850000 } from './1764000850000-create-audit-log';
import { AppointmentsCreatedBy1764000860000 } from './1764000860000-appointments-created-by';
import { SmsDailyRollup1764001100000 } from './1764001100000-sms-daily-rollup';
import { SmsAlerts1764001200000 } from './1764001200000-sms-alerts';
import { WebhookCallbacks1764001400000 } from './1764001400000-webhook-callbacks';
// t1: inbound SMS and keywords
import { InboundMessages1764001300000 } from './1764001300000-inbound-messages';
import { KeywordTemplates1764001310000 } from './1764001310000-keyword-templates';
// c1: campaigns
import { TemplateCustomTypes1764001000000 } from './1764001000000-template-custom-types';
import { SmsRecipients1764001010000 } from './1764001010000-sms-recipients';
import { SmsCampaigns1764001020000 } from './1764001020000-sms-campaigns';
// Coarse stats rollup, cheaper rollup update trigger.
import { SmsTenantRollup1764001600000 } from './1764001600000-sms-tenant-rollup';
// The webhook outbox trigger once per statement.
import { WebhookOutboxPerStatement1764001700000 } from './1764001700000-webhook-outbox-per-statement';
// The worker's outcome write (receipt locks, then the recording statement) in one round trip.
import { RecordOutcomesFunction1764001800000 } from './1764001800000-record-outcomes-function';
// Fewer index entries per message write (a duplicate and a narrow index gone, BRIN for created_at).
import { LighterMessageIndexes1764001900000 } from './1764001900000-lighter-message-indexes';
// The worker's claim as a function too, so its plan is cached per connection.
import { ClaimMessagesFunction1764002000000 } from './1764002000000-claim-messages-function';
// A slot records its message's outcome and claims the next one in one call.
import { RecordAndClaimFunction1764002100000 } from './1764002100000-record-and-claim-function';
// The providers each attempt was handed to, recorded by the claim and before each fallback.
import { AttemptProviders1764002200000 } from './1764002200000-attempt-providers';
// Alerts are callback events: alert_webhook_url becomes an endpoint, the alert webhook tables go.
import { AlertsOnCallbacks1764002300000 } from './1764002300000-alerts-on-callbacks';
// The dead row-level outbox function goes: the ledger's SQL is what src/messaging/sql lists.
import { LedgerSqlTidy1764002400000 } from './1764002400000-ledger-sql-tidy';
// Fair callbacks: a cap per endpoint, round-robin, backoff and pause.
import { FairCallbacks1764002500000 } from './1764002500000-fair-callbacks';
// STOP records the tenant it answered; a START that lifts nothing says so.
import { OptOutAnsweredTenant1764002600000 } from './1764002600000-opt-out-answered-tenant';
import { KeywordStartKeptTemplate1764002610000 } from './1764002610000-keyword-start-kept-template';
// The audit log keeps a caller's X-Request-Id beside the service's own request id.
import { AuditClientRequestId1764002700000 } from './1764002700000-audit-client-request-id';
import { LatencyBucketLookup1764002800000 } from './1764002800000-latency-bucket-lookup';
import { DeliveryQualityColumns1764002900000 } from './1764002900000-delivery-quality-columns';
// Templates whose texts smart encoding never changes.
import { TemplateExact1764003000000 } from './1764003000000-template-exact';
import { ValidityPeriods1764003200000 } from './1764003200000-validity-periods';
// Code conversion: the destination country on each message, the conversion rollup and its trigger.
import { CodeConversion1764003500000 } from './1764003500000-code-conversion';
import { CodeBodiesIndex1764003700000 } from './1764003700000-code-bodies-index';
import { ProviderAccounts1764004000000 } from './1764004000000-provider-accounts';
// The consent history lets an erasure redact its numbers, and nothing else.
import { ConsentErasure1764004100000 } from './1764004100000-consent-erasure';
// links: tracked links (issue 25, item 2)
import { TrackedLinks1764015000000 } from './1764015000000-tracked-links';
import { PrivacyRequests1764003900000 } from './1764003900000-privacy-requests';
import { PromotionalConsent1764003800000 } from './1764003800000-promotional-consent';
import { TemplateVariants1764016000000 } from './1764016000000-template-variants';
import { CampaignSendAt1764016100000 } from './1764016100000-campaign-send-at';
// issue 25 (channels): 1764014000000–1764014900000
import { MessageChannels1764014000000 } from './1764014000000-message-channels';
// The ledger range-partitioned by month (UUIDv7 ids); the old rows become the default partition.
import { PartitionedLedger1764019000000 } from './1764019000000-partitioned-ledger';
import { EventsWithoutLedgerFk1764019100000 } from './1764019100000-events-without-ledger-fk';
import { CallbacksNameChannel1764019200000 } from './1764019200000-callbacks-name-channel';
import { CodeLimitIndex1764019300000 } from './1764019300000-code-limit-index';
import { LedgerWritesByKey1764019400000 } from './1764019400000-ledger-writes-by-key';

export const MIGRATIONS = [
  CreateTenants1764000000000,
  CreateMessages1764000100000,
  CreateTemplates1764000200000,
  CreateVerificationAndAppointments1764000300000,
  CreateOptOuts1764000400000,
  IdempotencyPerUser1764000510000,
  SmsBatches1764000520000,
  PendingIndexUnknown1764000525000,
  CreateParkedReceipts1764000530000,
  MessageStatusUnknown1764000550000,
  CreateAuditLog1764000850000,
  AppointmentsCreatedBy1764000860000,
  TemplateCustomTypes1764001000000,
  SmsRecipients1764001010000,
  SmsCampaigns1764001020000,
  SmsDailyRollup1764001100000,
  SmsAlerts1764001200000,
  InboundMessages1764001300000,
  KeywordTemplates1764001310000,
  WebhookCallbacks1764001400000,
  SmsTenantRollup1764001600000,
  WebhookOutboxPerStatement1764001700000,
  RecordOutcomesFunction1764001800000,
  LighterMessageIndexes1764001900000,
  ClaimMessagesFunction1764002000000,
  RecordAndClaimFunction1764002100000,
  AttemptProviders1764002200000,
  AlertsOnCallbacks1764002300000,
  LedgerSqlTidy1764002400000,
  FairCallbacks1764002500000,
  OptOutAnsweredTenant1764002600000,
  KeywordStartKeptTemplate1764002610000,
  AuditClientRequestId1764002700000,
  LatencyBucketLookup1764002800000,
  DeliveryQualityColumns1764002900000,
  TemplateExact1764003000000,
  ValidityPeriods1764003200000,
  CodeConversion1764003500000,
  CodeBodiesIndex1764003700000,
  ProviderAccounts1764004000000,
  ConsentErasure1764004100000,
  PrivacyRequests1764003900000,
  PromotionalConsent1764003800000,
  TrackedLinks1764015000000,
  TemplateVariants1764016000000,
  CampaignSendAt1764016100000,
  MessageChannels1764014000000,
  PartitionedLedger1764019000000,
  EventsWithoutLedgerFk1764019100000,
  CallbacksNameChannel1764019200000,
  CodeLimitIndex1764019300000,
  LedgerWritesByKey1764019400000,
];
