import { signWebhook, verifyWebhookSignature } from './signature';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"e1","type":"message.sent"}';
  const now = 1_800_000_000;

  it('verifies its own signature within the tolerance', () => {
    expect(verifyWebhookSignature(secret, signWebhook(secret, body, now), body, 300, now + 299)).toBe(true);
  });

  it('refuses a stale or future timestamp', () => {
    expect(verifyWebhookSignature(secret, signWebhook(secret, body, now), body, 300, now + 301)).toBe(false);
    expect(verifyWebhookSignature(secret, signWebhook(secret, body, now + 400), body, 300, now)).toBe(false);
  });

  it('refuses another body, another secret, a changed timestamp and malformed headers', () => {
    const header = signWebhook(secret, body, now);
    expect(verifyWebhookSignature(secret, header, body.replace('sent', 'failed'), 300, now)).toBe(false);
    expect(verifyWebhookSignature('whsec_other', header, body, 300, now)).toBe(false);
    expect(verifyWebhookSignature(secret, header.replace(`t=${now}`, `t=${now + 1}`), body, 300, now)).toBe(
      false,
    );
    for (const bad of [undefined, '', 'v1=abc', `t=${now}`, `t=x,v1=${'0'.repeat(64)}`])
      expect(verifyWebhookSignature(secret, bad, body, 300, now)).toBe(false);
  });

  it('accepts any matching v1 among several and a Buffer body', () => {
    const good = signWebhook(secret, body, now).split(',')[1];
    const header = `t=${now},v1=${'a'.repeat(64)},${good}`;
    expect(verifyWebhookSignature(secret, header, Buffer.from(body), 300, now)).toBe(true);
  });
});
