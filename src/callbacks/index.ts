/** The public surface of callbacks (outbound webhooks): what other modules may import. */
export { CallbacksModule } from './callbacks.module';
export { CallbacksService } from './callbacks.service';
export type { EventDeliveryCounts, PublishInput } from './callbacks.service';
export { WebhookDispatcher } from './dispatcher.service';
export { WEBHOOK_EVENTS } from './events';
export type { PublishedEventType, WebhookEvent, WebhookEventType } from './events';
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature } from './signature';
export { CallbackUrlModule } from './callback-url.module';
export { CallbackUrlGuard, HostResolver, MAX_URL_LENGTH } from './url-policy';
export type { HostAddress } from './url-policy';
export { StatusCallbackUrlField } from './status-callback-url.field';
// Its part in a number's data-subject requests (src/privacy).
export { callbacksPersonalData } from './callbacks-personal-data';
