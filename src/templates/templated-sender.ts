import { Injectable } from '@nestjs/common';
import { CODE_MESSAGE_TYPES, Language, MessageType } from '../core/message-types';
import { Accepted, AcceptInput, AcceptService, ChannelInput, SendContext } from '../messaging';
import { PhoneService } from '../phone';
import type { SmsTemplateEntity } from './template.entity';
import { sanitizeVariableValue } from './render';
import { TemplatesService } from './templates.service';

export interface TemplatedSend {
  phoneNumber: string;
  templateId: string;
  variables: Record<string, unknown>;
  language?: Language;
  userId?: string | null;
  metadata?: Record<string, unknown>;
  campaignId?: string | null;
  /** The message's status callback URL. */
  statusCallbackUrl?: string | null;
  /** Values stored and shown as ****** whatever the template's type (verification codes). */
  secrets?: string[];
  /** The send's own validity period in seconds; wins over the template's. Null or absent: the template's. */
  validitySeconds?: number | null;
  /** channels (issue 25): the send's own; absent fields: the template's channel and content_sid. */
  channel?: ChannelInput;
  /** Committed with the message or not at all (see AcceptInput.alongside). */
  alongside?: AcceptInput['alongside'];
}

/**
 * The one path for templated messages (HTTP, verification codes, the in-process SmsService):
 * render with the tenant's template, then accept through AcceptService like any send; the result
 * names the template and the language actually sent.
 * For password-reset and 2FA templates every variable value is a secret: it is stored and shown
 * as ******, and exists in clear only in the provider request.
 */
@Injectable()
export class TemplatedSender {
  constructor(
    private readonly templates: TemplatesService,
    private readonly accepting: AcceptService,
    private readonly phone: PhoneService,
  ) {}

  async send(ctx: SendContext, input: TemplatedSend): Promise<Accepted> {
    const rendered = await this.templates.renderForSend(
      ctx.principal.tenantId,
      input.templateId,
      input.variables,
      input.language,
      // A/B variants are picked by the E.164 number (an invalid one is the accept path's 400).
      this.e164(input.phoneNumber),
    );
    const type = rendered.template.messageType;
    const fromType = CODE_MESSAGE_TYPES.includes(type) ? Object.values(input.variables) : [];
    const secrets = [...new Set([...(input.secrets ?? []), ...fromType].map(sanitizeVariableValue))].filter(
      (v) => v.length > 0,
    );
    return this.accepting.accept(ctx, {
      recipients: [input.phoneNumber],
      body: rendered.text,
      secrets,
      messageType: type,
      transactional: rendered.template.transactional,
      exact: rendered.template.exact,
      language: rendered.languageUsed as Language,
      templateId: rendered.template.templateId,
      variant: rendered.variant ?? null,
      userId: input.userId ?? null,
      metadata: input.metadata,
      campaignId: input.campaignId ?? null,
      statusCallbackUrl: input.statusCallbackUrl ?? null,
      // The send's own validity wins over its template's; without either, the type's default.
      validitySeconds: input.validitySeconds ?? rendered.template.validitySeconds,
      ...templatedChannel(input.channel, rendered.template, type),
      mode: 'single',
      alongside: input.alongside,
    });
  }

  private e164(phoneNumber: string): string | null {
    const v = this.phone.forSend(phoneNumber);
    return v.valid ? v.e164 : null;
  }
}

/**
 * channels (issue 25): a templated send's channel: the send's own, else the template's; a
 * WhatsApp template's content_sid unless the send gives one. A code template's channel does not
 * apply (one stored before code templates were held to SMS): a code goes by WhatsApp only when
 * its send asks.
 */
export function templatedChannel(
  own: ChannelInput | undefined,
  t: Pick<SmsTemplateEntity, 'channel' | 'contentSid'>,
  type: MessageType,
): ChannelInput {
  // A code template lends neither: its WhatsApp template would go without the code.
  const template = CODE_MESSAGE_TYPES.includes(type) ? { channel: 'sms' as const, contentSid: null } : t;
  const channel = own?.channel ?? template.channel ?? 'sms';
  return {
    ...own,
    channel,
    ...(channel === 'whatsapp' && !own?.contentSid && template.contentSid
      ? { contentSid: template.contentSid }
      : {}),
  };
}
