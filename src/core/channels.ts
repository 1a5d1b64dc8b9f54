/**
 * Channels a message goes out on (docs/sending.md#channels): pure rules, no I/O.
 * - `sms`: every provider.
 * - `whatsapp`: Twilio's WhatsApp sender only (`whatsapp:`-prefixed From/To). Inside the 24-hour
 *   customer service window (the recipient wrote to our WhatsApp sender less than 24 h ago) free
 *   text; outside it an approved template (Twilio Content API: ContentSid + ContentVariables).
 * - `mms`: Twilio with MediaUrl, only to countries where Twilio carries MMS.
 */
export const CHANNELS = ['sms', 'whatsapp', 'mms'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Which WhatsApp form applied: free text inside the session window, or an approved template. */
export const WHATSAPP_MODES = ['session', 'template'] as const;
export type WhatsappMode = (typeof WHATSAPP_MODES)[number];

/** What a non-SMS channel's wire format needs, stored with the message (`channel_params`). */
export interface ChannelParams {
  /** MMS: https URLs of the media (each checked like a callback URL). */
  media_urls?: string[];
  /** WhatsApp: the approved Content API template (HX…), sent outside the session window. */
  content_sid?: string;
  /** WhatsApp: the template's variables ({"1": "Ada"}), sent as ContentVariables JSON. */
  content_variables?: Record<string, string>;
}

/** The customer service window: WhatsApp allows free text this long after the recipient's last message. */
export const WHATSAPP_SESSION_MS = 24 * 3600 * 1000;

/** Destination countries (ISO alpha-2) where Twilio carries MMS; elsewhere `mms` is a 400. */
export const MMS_COUNTRIES: readonly string[] = ['US', 'CA'];

/** At most this many media per MMS (Twilio's limit). */
export const MAX_MEDIA_URLS = 10;

/** A Twilio Content API template SID. */
export const CONTENT_SID_PATTERN = /^HX[0-9a-f]{32}$/;

/** The `whatsapp:` address Twilio expects for a number (E.164) or an already prefixed one. */
export function whatsappAddress(number: string): string {
  return number.startsWith('whatsapp:') ? number : `whatsapp:${number}`;
}

/** A Twilio address without its `whatsapp:` prefix, and whether it had one. */
export function stripWhatsapp(address: string): { number: string; whatsapp: boolean } {
  return address.startsWith('whatsapp:')
    ? { number: address.slice('whatsapp:'.length), whatsapp: true }
    : { number: address, whatsapp: false };
}

/**
 * Pure: the WhatsApp form a message due at `due` takes. `session` when the recipient's last
 * inbound message (`lastInbound`) keeps the window open at `due`; otherwise `template` when the
 * message carries a content template; otherwise null (it cannot be sent: a 400 at accept, a
 * permanent failure at send).
 */
export function whatsappMode(lastInbound: Date | null, due: Date, hasTemplate: boolean): WhatsappMode | null {
  if (lastInbound !== null && due.getTime() < lastInbound.getTime() + WHATSAPP_SESSION_MS) return 'session';
  return hasTemplate ? 'template' : null;
}

/** Pure: the end of the window an inbound message at `lastInbound` opened. */
export function whatsappWindowEnd(lastInbound: Date): Date {
  return new Date(lastInbound.getTime() + WHATSAPP_SESSION_MS);
}
