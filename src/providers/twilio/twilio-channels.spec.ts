import { whatsappMode, WHATSAPP_SESSION_MS } from '../../core/channels';
import { OutboundSms, ProviderError } from '../sms-provider';
import { twilioContent } from './twilio.provider';
import { parseTwilioInbound } from './twilio-webhooks';

const base: OutboundSms = {
  messageId: 'm',
  tenantId: 1,
  to: '+13125550100',
  body: 'Hi',
  messageType: 'general_notification',
};
const defaults = { from: '+15005550006', whatsappFrom: '+14155238886' };
const SID = 'HX' + '0'.repeat(32);

describe("Twilio's wire format per channel (twilioContent)", () => {
  it('sends SMS as To, Body and the sender', () => {
    expect(twilioContent(base, defaults)).toEqual({ to: '+13125550100', body: 'Hi', from: '+15005550006' });
  });

  it('sends WhatsApp free text inside the session window with whatsapp:-prefixed From and To', () => {
    expect(twilioContent({ ...base, channel: 'whatsapp', whatsappMode: 'session' }, defaults)).toEqual({
      to: 'whatsapp:+13125550100',
      from: 'whatsapp:+14155238886',
      body: 'Hi',
    });
  });

  it("sends a WhatsApp template as ContentSid and ContentVariables JSON, without Body, from the message's sender", () => {
    expect(
      twilioContent(
        {
          ...base,
          channel: 'whatsapp',
          whatsappMode: 'template',
          sender: '+14155550000',
          contentSid: SID,
          contentVariables: { '1': 'Ada' },
        },
        defaults,
      ),
    ).toEqual({
      to: 'whatsapp:+13125550100',
      from: 'whatsapp:+14155550000',
      contentSid: SID,
      contentVariables: '{"1":"Ada"}',
    });
  });

  it('fails permanently without a WhatsApp sender', () => {
    expect(() => twilioContent({ ...base, channel: 'whatsapp' }, { from: '+15005550006' })).toThrow(
      ProviderError,
    );
  });

  it('sends MMS with MediaUrl', () => {
    expect(
      twilioContent({ ...base, channel: 'mms', mediaUrls: ['https://a.example/x.jpg'] }, defaults),
    ).toEqual({
      to: '+13125550100',
      body: 'Hi',
      from: '+15005550006',
      mediaUrl: ['https://a.example/x.jpg'],
    });
  });
});

describe('the WhatsApp session window (whatsappMode)', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  it('is free text within 24 hours of the last inbound message, at the due time', () => {
    expect(whatsappMode(new Date(now.getTime() - WHATSAPP_SESSION_MS + 1000), now, false)).toBe('session');
  });
  it('needs a template once the window has closed, or before it ever opened', () => {
    expect(whatsappMode(new Date(now.getTime() - WHATSAPP_SESSION_MS), now, true)).toBe('template');
    expect(whatsappMode(null, now, true)).toBe('template');
    expect(whatsappMode(null, now, false)).toBeNull();
  });
});

describe('inbound WhatsApp (parseTwilioInbound)', () => {
  it('keeps the numbers bare and marks the channel', () => {
    const m = parseTwilioInbound(
      {
        MessageSid: 'SM' + 'a'.repeat(32),
        From: 'whatsapp:+13125550100',
        To: 'whatsapp:+14155238886',
        Body: 'STOP',
      },
      new Date(0),
    );
    expect(m).toMatchObject({ from: '+13125550100', to: '+14155238886', channel: 'whatsapp', body: 'STOP' });
  });
});
