/**
 * The public surface of messaging, the owner of the message ledger (`sms_messages`, its events and
 * batches): what other features may import. Everything else is internal. Other features read and
 * write the ledger only through what is exported here.
 */
export { MessagingModule, MessagingWorkerModule } from './messaging.module';
// Accepting messages: the one accept path, and how HTTP routes present its result.
export { AcceptService } from './accept/accept.service';
export type {
  Accepted,
  AcceptInput,
  AcceptResult,
  BindParam,
  ChannelInput,
  PlannedInput,
  PlannedMessage,
  PlannedOutcome,
  PlannedPreview,
  SendContext,
} from './accept/accept.types';
export { SendResponseDto } from './accept/messaging.dto';
export { SmartEncodingDto, smartEncodingField } from './accept/smart-encoding.dto';
export { toSendResponse } from './accept/messaging.mappers';
export { Reply, SendCtx, SendRoute } from './accept/send-route';
export type { AcceptedReply } from './accept/send-route';
export { MetadataField } from './accept/metadata';
// Reading the ledger: tenant requests, campaigns, and the jobs.
export { MessageQueriesService } from './queries/message-queries.service';
export { LedgerQueries, RECENT_MESSAGES_GAUGE } from './queries/ledger-queries.service';
export type { FailureCount, MessageCount } from './queries/ledger-queries.service';
export { CampaignLedger } from './repositories/campaign-ledger';
export type { CampaignProgress } from './repositories/campaign-ledger';
// A/B variant stats and response history (delivery-time optimisation).
export { ExperimentLedger } from './repositories/experiment-ledger';
export type { PastResponse, VariantCounts } from './repositories/experiment-ledger';
export { SystemMessagesRepository } from './repositories/system-messages.repository';
// The ledger's monthly partitions: created ahead by the `partitions` job, dropped by retention.
export { LedgerPartitions, monthPartition } from './repositories/ledger-partitions';
export type { MonthPartition } from './repositories/ledger-partitions';
// After the send: receipts, unknown outcomes, the sweeper.
export { ReceiptsService } from './receipts/receipts.service';
export { OutcomeResolver, OUTCOME_UNKNOWN, WORKER_LOST } from './receipts/outcome-resolver.service';
export type { ResolveSummary } from './receipts/outcome-resolver.service';
// Code conversion: a verification check that succeeded marks its message (and tells routing).
export { MessageConversions } from './receipts/message-conversions.service';
export type { MessageConversion } from './receipts/message-conversions.service';
export { SweeperService } from './delivery/sweeper.service';
// Every delivery queue of every shard (Queue[]), for metrics and the queue dashboard.
export { DELIVERY_QUEUES } from './delivery/delivery-queue';
// Policies other features act on: opt-outs (inbound keywords), idempotency keys (retention).
export { answeredTenant, OPT_OUT_SOURCE, OptOutsService } from './policies/opt-outs.service';
export type { AnsweredTenant, OptOutChangeSource } from './policies/opt-outs.service';
export { IdempotencyService } from './policies/idempotency.service';
// Data-subject requests (src/privacy): one number's messages erased or exported, its keyed hash.
export { ERASED_BODY, ERASED_NUMBER, PrivacyLedger } from './repositories/privacy-ledger';
export type { LedgerErasure, LedgerExportMessage } from './repositories/privacy-ledger';
export { PhoneHasher } from './policies/phone-hash';
export { consentPersonalData } from './policies/consent-personal-data';
// Consent for promotional texts: the directory sets it, inbound keywords change it.
export { ConsentService } from './policies/consent.service';
export type { ConsentActor, ConsentWrite } from './policies/consent.service';
export {
  CONSENT_CHANNELS,
  CONSENT_STATUSES,
  parseConsent,
  PROMOTIONAL_CONSENT_SETTINGS,
  SMS_KEYWORD_SOURCE,
  UNKNOWN_CONSENT,
} from './policies/consent-rules';
export type { Consent, ConsentChannel, ConsentInput, ConsentStatus } from './policies/consent-rules';
// Channels (issue 25): the WhatsApp session window (inbound opens it) and the SMS fallback job.
export { WhatsappSessions } from './channels/whatsapp-sessions';
export { ChannelFallbacks } from './channels/fallbacks.service';
export {
  ChannelField,
  channelInput,
  ContentSidField,
  ContentVariablesField,
  FallbackChannelField,
  MediaUrlsField,
} from './accept/channel.fields';
export type { ChannelFieldsDto } from './accept/channel.fields';
