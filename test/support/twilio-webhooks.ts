import { randomBytes } from 'node:crypto';
import type { Test } from 'supertest';
import twilio from 'twilio';
import { FAKE_TWILIO_TOKEN } from '../fakes/fake-twilio';
import type { TestApp } from './test-app';

/** The service's public address in tests that take Twilio's webhooks (their signatures name it). */
export const PUBLIC_BASE_URL = 'https://sms.example.test';
/** The WhatsApp sender of those tests (TWILIO_WHATSAPP_FROM). */
export const WHATSAPP_FROM = '+14155238886';
const INBOUND = '/api/sms/webhooks/twilio/inbound';
const STATUS = '/api/sms/webhooks/twilio/status';

/** A webhook as Twilio posts it to the service: form-encoded, signed with the fake account's token. */
function twilioPost(t: TestApp, path: string, params: Record<string, string>): Test {
  const signature = twilio.getExpectedTwilioSignature(FAKE_TWILIO_TOKEN, `${PUBLIC_BASE_URL}${path}`, params);
  return t.http().post(path).type('form').set('X-Twilio-Signature', signature).send(params);
}

/** The recipient writes to our WhatsApp sender: the inbound webhook (it opens the 24-hour window). */
export function whatsappInbound(t: TestApp, from: string, body: string): Test {
  return twilioPost(t, INBOUND, {
    MessageSid: `SM${randomBytes(16).toString('hex')}`,
    AccountSid: 'AC' + '0'.repeat(32),
    From: `whatsapp:${from}`,
    To: `whatsapp:${WHATSAPP_FROM}`,
    Body: body,
  });
}

/** Twilio's status callback for a message it has (as a carrier receipt would come). */
export function twilioStatus(t: TestApp, sid: string, accountSid: string, status: string): Test {
  return twilioPost(t, STATUS, { MessageSid: sid, MessageStatus: status, AccountSid: accountSid });
}
