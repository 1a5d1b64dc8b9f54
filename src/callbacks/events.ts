/** Every event a tenant endpoint may subscribe to. The message.* ones come from the outbox trigger. */
export const WEBHOOK_EVENTS = [
  'message.sent',
  'message.delivered',
  'message.failed',
  'message.undelivered',
  'message.expired',
  'message.inbound',
  'recipient.opted_out',
  'recipient.opted_in',
  'campaign.completed',
  'alert.raised',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** The events other features publish through `CallbacksService.publish` (message.* are the trigger's). */
export type PublishedEventType = Exclude<
  WebhookEventType,
  'message.sent' | 'message.delivered' | 'message.failed' | 'message.undelivered' | 'message.expired'
>;

/** What a receiver gets: the JSON body, in this key order. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  created_at: string;
  data: Record<string, unknown>;
}

/** A delivery is retried for this long (the trigger's `expires_at` default says the same), then fails. */
export const RETRY_WINDOW_HOURS = 24;
