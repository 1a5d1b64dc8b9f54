/** The public surface of providers: the router other modules use, and the provider vocabulary. */
export { ProvidersModule, SmsRouter, providerOrder } from './providers.module';
export { DeliveryReceipts } from './receipts';
export { messageFailure, readErrorCode } from './failure-codes';
export type { CircuitChange, ProviderActivity, ProviderCall, ProviderObserver } from './provider-stats';
export type { CircuitState } from './circuit-breaker';
export type { SendHooks } from './provider-router';
export { SnsNotifications } from './sns/sns-notifications';
export { isTestNumber, TEST_NUMBERS, testNumber } from './sandbox/test-numbers';
export type { TestNumber, TestOutcome } from './sandbox/test-numbers';
export type { SnsOutcome } from './sns/sns-notifications';
export type { DeliveryReceipt } from './receipts';
export {
  AllProvidersFailedError,
  CircuitsOpenError,
  ProviderError,
  ProviderNotCalledError,
  WebhookRejectedError,
} from './sms-provider';
export type {
  FoundMessage,
  InboundSms,
  OutboundSms,
  ProviderSendResult,
  ProviderStatus,
  SmsProvider,
  SentLookup,
  WebhookAck,
  WebhookRequest,
} from './sms-provider';
