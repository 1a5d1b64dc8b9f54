import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import {
  Channel,
  ChannelParams,
  CHANNELS,
  CONTENT_SID_PATTERN,
  MAX_MEDIA_URLS,
  MMS_COUNTRIES,
  WhatsappMode,
  whatsappMode,
} from '../../core/channels';
import { CallbackUrlGuard } from '../../callbacks';
import { CODE_MESSAGE_TYPES, MessageType } from '../../core/message-types';
import { TenantsService } from '../../tenancy';
import type { ChannelInput } from '../accept/accept.types';
import { contentVariablesProblem } from '../accept/channel.fields';
import { WhatsappSessions } from './whatsapp-sessions';

/** A send's channel after its checks: what each of its rows stores. */
export interface ChannelSpec {
  channel: Channel;
  params: ChannelParams | null;
  fallbackChannel: 'sms' | null;
}

export const SMS_SPEC: ChannelSpec = { channel: 'sms', params: null, fallbackChannel: null };

/** Why a recipient is refused for its channel (bulk `rejected` reasons, campaign skips). */
export const MMS_UNSUPPORTED_COUNTRY = 'mms_unsupported_country';
export const WHATSAPP_SESSION_CLOSED = 'whatsapp_session_closed';

/** A row as the channel screen sees it (the accept path's rows). */
interface ChannelRow {
  phoneNumber: string;
  country: string | null;
  scheduledAt: Date | null;
  sender?: string | null;
  whatsappMode?: WhatsappMode | null;
}

/**
 * The channel rules of the one accept path (docs/sending.md#channels): the fields' consistency,
 * the media URLs' SSRF check (the callbacks' guard), MMS destinations, the WhatsApp sender and
 * session window. A refusal is a 400 naming the field (single), or a row's reason (bulk, campaign).
 */
@Injectable()
export class ChannelPolicy {
  constructor(
    private readonly config: AppConfig,
    private readonly urls: CallbackUrlGuard,
    private readonly sessions: WhatsappSessions,
    private readonly tenants: TenantsService,
  ) {}

  /** Pure checks of the channel fields (400 naming the field; nothing stored). */
  spec(input: ChannelInput & { messageType?: MessageType }): ChannelSpec {
    const channel = input.channel ?? 'sms';
    if (!CHANNELS.includes(channel))
      throw ValidationFailedError.field('channel', `channel must be one of ${CHANNELS.join(', ')}`);
    // A code goes by SMS or WhatsApp (its template variables sealed with its text, never stored in
    // clear: AcceptService.prepare), once: not as MMS, and no SMS fallback (docs/sending.md#channels).
    if (input.messageType !== undefined && CODE_MESSAGE_TYPES.includes(input.messageType)) {
      if (channel === 'mms')
        throw ValidationFailedError.field(
          'channel',
          `${input.messageType} messages carry a code and go by sms or whatsapp; channel mms is not taken`,
        );
      if (input.fallbackChannel !== undefined && input.fallbackChannel !== null)
        throw ValidationFailedError.field(
          'fallback_channel',
          'a code is sent once: no fallback_channel (ask for a new code by SMS instead)',
        );
    }
    const only = (field: string, given: unknown, on: Channel) => {
      if (given !== undefined && given !== null && channel !== on)
        throw ValidationFailedError.field(field, `${field} applies to channel ${on} only`);
    };
    only('media_urls', input.mediaUrls, 'mms');
    only('content_sid', input.contentSid, 'whatsapp');
    only('content_variables', input.contentVariables, 'whatsapp');
    only('fallback_channel', input.fallbackChannel, 'whatsapp');
    if (channel === 'sms') return SMS_SPEC;
    if (channel === 'mms') {
      const media = input.mediaUrls ?? [];
      if (media.length === 0)
        throw ValidationFailedError.field('media_urls', 'media_urls is required for channel mms');
      if (media.length > MAX_MEDIA_URLS)
        throw ValidationFailedError.field('media_urls', `media_urls takes at most ${MAX_MEDIA_URLS} URLs`);
      for (const url of media) this.urls.checkSyntax('media_urls', url);
      return { channel, params: { media_urls: [...media] }, fallbackChannel: null };
    }
    if (input.contentSid !== undefined && !CONTENT_SID_PATTERN.test(input.contentSid))
      throw ValidationFailedError.field(
        'content_sid',
        'content_sid must be a Twilio Content SID (HX and 32 hex digits)',
      );
    const problem = contentVariablesProblem(input.contentVariables);
    if (problem) throw ValidationFailedError.field('content_variables', problem);
    if (input.contentVariables && !input.contentSid)
      throw ValidationFailedError.field('content_variables', 'content_variables needs content_sid');
    if (
      input.fallbackChannel !== undefined &&
      input.fallbackChannel !== null &&
      input.fallbackChannel !== 'sms'
    )
      throw ValidationFailedError.field('fallback_channel', 'fallback_channel must be sms');
    const params: ChannelParams = {};
    if (input.contentSid) params.content_sid = input.contentSid;
    if (input.contentVariables) params.content_variables = { ...input.contentVariables };
    return {
      channel,
      params: Object.keys(params).length ? params : null,
      fallbackChannel: input.fallbackChannel ?? null,
    };
  }

  /** Every media URL's host resolves to public addresses only (400 naming media_urls); bounded DNS. */
  async checkMediaHosts(spec: ChannelSpec): Promise<void> {
    for (const url of spec.params?.media_urls ?? []) await this.urls.check('media_urls', url);
  }

  /** The tenant's WhatsApp sender (E.164): its own `whatsapp_sender`, else TWILIO_WHATSAPP_FROM; null: none. */
  async whatsappSender(tenantId: number): Promise<string | null> {
    const own = (await this.tenants.ensure(tenantId)).settings.whatsapp_sender;
    return own || this.config.get('TWILIO_WHATSAPP_FROM') || null;
  }

  /**
   * The per-recipient rules, on rows that passed the shared policies: MMS only to MMS countries;
   * WhatsApp from the tenant's WhatsApp sender, as free text inside the recipient's session window
   * (at the row's due time) else as the content template, else refused. Returns the reason each
   * row is refused (null: kept) and the 400 a single send answers with.
   */
  async screen(
    tenantId: number,
    spec: ChannelSpec,
    rows: ChannelRow[],
    now: Date,
    testMode: boolean,
  ): Promise<{
    reasonOf: (r: ChannelRow) => string | null;
    error: (r: ChannelRow, reason: string) => Error;
  }> {
    const error = (r: ChannelRow, reason: string): Error =>
      reason === MMS_UNSUPPORTED_COUNTRY
        ? ValidationFailedError.field(
            'phone_number',
            `channel mms cannot reach ${r.country ?? 'this number'} (${r.phoneNumber}): MMS goes to ${MMS_COUNTRIES.join(', ')} numbers only`,
          )
        : ValidationFailedError.field(
            'content_sid',
            `content_sid is required: ${r.phoneNumber} has not written to the WhatsApp sender within 24 hours of when the message is due (the session window is closed), and outside it WhatsApp takes only an approved template`,
          );
    if (spec.channel === 'mms')
      return {
        reasonOf: (r) => (r.country && MMS_COUNTRIES.includes(r.country) ? null : MMS_UNSUPPORTED_COUNTRY),
        error,
      };
    if (spec.channel !== 'whatsapp') return { reasonOf: () => null, error };
    const sender = await this.whatsappSender(tenantId);
    if (!sender && !testMode)
      throw ValidationFailedError.field(
        'channel',
        "channel whatsapp needs a WhatsApp sender: the tenant's whatsapp_sender setting or TWILIO_WHATSAPP_FROM",
      );
    const last = sender
      ? await this.sessions.lastInbound(
          sender,
          rows.map((r) => r.phoneNumber),
        )
      : new Map<string, Date>();
    const hasTemplate = spec.params?.content_sid !== undefined;
    for (const r of rows) {
      r.sender = sender;
      r.whatsappMode = whatsappMode(last.get(r.phoneNumber) ?? null, r.scheduledAt ?? now, hasTemplate);
    }
    return { reasonOf: (r) => (r.whatsappMode ? null : WHATSAPP_SESSION_CLOSED), error };
  }
}
