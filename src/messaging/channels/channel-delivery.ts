import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock';
import { whatsappMode } from '../../core/channels';
import { OutboundSms, ProviderError } from '../../providers';
import type { ClaimedMessage } from '../delivery/delivery-store';
import { WhatsappSessions } from './whatsapp-sessions';

/**
 * Records the WhatsApp mode of a message still 'sending', found by key: the status test is written
 * so no index serves it, as DeliveryStore's statements are (delivery-store.ts).
 */
export const WHATSAPP_MODE_SQL = `UPDATE sms_messages SET whatsapp_mode = $2
  WHERE id = $1 AND status IS NOT DISTINCT FROM 'sending'`;

/**
 * The worker's part of channels (issue 25): what a claimed WhatsApp or MMS message tells its
 * provider. A WhatsApp message accepted inside the session window is checked again as it goes: a
 * window that closed meanwhile (a schedule, quiet hours, a long queue) sends the content template
 * instead when the message has one (the row's `whatsapp_mode` says so), and otherwise fails
 * permanently (`whatsapp_session_closed`, nothing called: free text outside the window would be
 * refused by WhatsApp anyway).
 */
@Injectable()
export class ChannelDelivery {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly sessions: WhatsappSessions,
    private readonly clock: Clock,
  ) {}

  async prepare(msg: ClaimedMessage, out: OutboundSms): Promise<void> {
    if (msg.channel === 'sms') return;
    out.channel = msg.channel;
    const params = msg.channelParams ?? {};
    if (msg.channel === 'mms') {
      out.mediaUrls = params.media_urls ?? [];
      return;
    }
    out.contentSid = params.content_sid;
    out.contentVariables = params.content_variables;
    let mode = msg.whatsappMode ?? 'template';
    if (mode === 'session' && !msg.testMode && msg.sender) {
      const last =
        (await this.sessions.lastInbound(msg.sender, [msg.phoneNumber])).get(msg.phoneNumber) ?? null;
      const now = whatsappMode(last, this.clock.now(), params.content_sid !== undefined);
      if (now === null)
        throw new ProviderError(
          'twilio',
          'permanent',
          'whatsapp_session_closed',
          "the recipient's 24-hour WhatsApp session window closed before the message went out, and it has no content_sid",
        );
      if (now !== mode) {
        mode = now;
        await this.ds.query(WHATSAPP_MODE_SQL, [msg.id, mode]);
      }
    }
    out.whatsappMode = mode;
  }
}
