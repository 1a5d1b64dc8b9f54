/**
 * Every SQL function and trigger on the message ledger (`sms_messages`, its events and batches),
 * in one place. Each has its source file in this folder (the definition the database runs, as
 * PostgreSQL prints it), the migration that last defined it, what calls it (a function) or what
 * fires it (a trigger), and the test of its behaviour.
 *
 * The migrations are history; these files are what runs. The medium spec
 * `test/medium/messaging/ledger-sql.medium-spec.ts` migrates a database and checks that its
 * definitions equal these files and that no other function or trigger exists on the ledger. To
 * change one: edit its file, and add a migration that runs the same text.
 */
export interface LedgerSqlObject {
  /** `function <name>(<argument types>)` or `trigger <name>`, as its file's `-- object:` line says. */
  object: string;
  /** The source file, in this folder. */
  file: string;
  /** The migration (in migrations/) that last defined it. */
  migration: string;
  /** The code that calls it, or the statements that fire it. */
  caller: string;
  /** The test of what it does (a path from the repository root). */
  test: string;
}

const CLAIM_ARGS = 'uuid[], timestamp with time zone';
const OUTCOME_ARGS =
  'uuid[], character varying[], character varying[], character varying[], numeric[], character varying[], text[], text[], integer[], character varying[], timestamp with time zone, character varying[]';

export const LEDGER_SQL: readonly LedgerSqlObject[] = [
  {
    object: `function sms_claim_messages(${CLAIM_ARGS}, character varying[])`,
    file: 'claim-messages.sql',
    migration: '1764019400000-ledger-writes-by-key',
    caller: 'DeliveryStore.claimMany (src/messaging/delivery/delivery-store.ts)',
    test: 'test/messaging/attempt-providers.e2e-spec.ts',
  },
  {
    object: `function sms_claim_messages(${CLAIM_ARGS})`,
    file: 'claim-messages.sql',
    migration: '1764002200000-attempt-providers',
    caller: 'a worker of the previous release during a rolling deploy (records NULL)',
    test: 'test/messaging/attempt-providers.e2e-spec.ts',
  },
  {
    object: `function sms_record_outcomes(${OUTCOME_ARGS})`,
    file: 'record-outcomes.sql',
    migration: '1764019400000-ledger-writes-by-key',
    caller: 'DeliveryStore.recordMany (src/messaging/delivery/delivery-store.ts)',
    test: 'test/messaging/delivery.e2e-spec.ts',
  },
  {
    object: `function sms_record_outcomes_and_claim(${OUTCOME_ARGS}, uuid[], character varying[])`,
    file: 'record-outcomes-and-claim.sql',
    migration: '1764014000000-message-channels',
    caller: 'DeliveryStore.recordAndClaimMany (src/messaging/delivery/delivery-store.ts)',
    test: 'test/messaging/delivery.e2e-spec.ts',
  },
  {
    object: `function sms_record_outcomes_and_claim(${OUTCOME_ARGS}, uuid[])`,
    file: 'record-outcomes-and-claim.sql',
    migration: '1764002100000-record-and-claim-function',
    caller: 'a worker of the previous release during a rolling deploy',
    test: 'test/messaging/attempt-providers.e2e-spec.ts',
  },
  {
    object:
      'function sms_latency_bucket(character varying, timestamp with time zone, timestamp with time zone)',
    file: 'rollup-triggers.sql',
    migration: '1764002800000-latency-bucket-lookup',
    caller: 'sms_rollup_on_insert and sms_rollup_on_update; mirrored by src/analytics/latency.ts',
    test: 'test/medium/analytics/stats.medium-spec.ts',
  },
  {
    object: 'function sms_rollup_on_insert()',
    file: 'rollup-triggers.sql',
    migration: '1764001100000-sms-daily-rollup',
    caller: 'trigger sms_rollup_insert',
    test: 'test/medium/analytics/stats.medium-spec.ts',
  },
  {
    object: 'function sms_rollup_on_update()',
    file: 'rollup-triggers.sql',
    migration: '1764001600000-sms-tenant-rollup',
    caller: 'trigger sms_rollup_update',
    test: 'test/medium/analytics/stats.medium-spec.ts',
  },
  {
    object: 'trigger sms_rollup_insert',
    file: 'rollup-triggers.sql',
    migration: '1764001100000-sms-daily-rollup',
    caller: 'every INSERT into sms_messages (MessagesRepository.insertMany, insertCampaignChunk)',
    test: 'test/medium/analytics/stats.medium-spec.ts',
  },
  {
    object: 'trigger sms_rollup_update',
    file: 'rollup-triggers.sql',
    migration: '1764001100000-sms-daily-rollup',
    caller: 'every UPDATE of sms_messages (see "Who may change a message\'s status" in docs/ARCHITECTURE.md)',
    test: 'test/medium/analytics/stats.medium-spec.ts',
  },
  {
    object: 'function sms_conversion_rollup_on_update()',
    file: 'conversion-rollup-trigger.sql',
    migration: '1764003500000-code-conversion',
    caller: 'trigger sms_conversion_rollup',
    test: 'test/verification/code-conversion.e2e-spec.ts',
  },
  {
    object: 'trigger sms_conversion_rollup',
    file: 'conversion-rollup-trigger.sql',
    migration: '1764003500000-code-conversion',
    caller:
      'every UPDATE of sms_messages; counts only code messages first handed over (the worker, receipts, the resolver) or converted (MessageConversions.markConverted)',
    test: 'test/verification/code-conversion.e2e-spec.ts',
  },
  {
    object: 'function sms_messages_webhook_outbox_batch()',
    file: 'webhook-outbox-trigger.sql',
    migration: '1764019200000-callbacks-name-channel',
    caller: 'trigger sms_messages_webhook_outbox',
    test: 'test/callbacks/outbound-webhooks.e2e-spec.ts',
  },
  {
    object: 'trigger sms_messages_webhook_outbox',
    file: 'webhook-outbox-trigger.sql',
    migration: '1764001700000-webhook-outbox-per-statement',
    caller: 'every UPDATE of sms_messages that changes a status',
    test: 'test/callbacks/outbound-webhooks.e2e-spec.ts',
  },
];
