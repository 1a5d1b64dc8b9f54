import { fromTwilioStatus } from './twilio-status';

describe('Twilio status words', () => {
  it.each([
    ['queued', null],
    ['accepted', null],
    ['sending', 'sent'],
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'delivered'],
    ['undelivered', 'undelivered'],
    ['failed', 'failed'],
    ['DELIVERED', 'delivered'],
  ])('maps Twilio %s to %s', (twilio, ours) => {
    expect(fromTwilioStatus(twilio)).toBe(ours);
  });
});
