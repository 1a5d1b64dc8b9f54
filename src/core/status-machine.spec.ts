import { MESSAGE_STATUSES, MessageStatus } from '../core/message-types';
import { canTransition, isTerminal } from './status-machine';

describe('status machine', () => {
  const allowed: [MessageStatus, MessageStatus[]][] = [
    ['scheduled', ['queued', 'sending', 'canceled', 'expired']],
    ['queued', ['sending', 'canceled', 'failed', 'expired']],
    ['sending', ['sent', 'queued', 'failed', 'delivered', 'undelivered', 'unknown', 'expired']],
    ['sent', ['delivered', 'undelivered', 'failed']],
    ['unknown', ['sent', 'queued', 'delivered', 'undelivered', 'failed']],
    ['delivered', []],
    ['undelivered', []],
    ['failed', []],
    ['canceled', []],
    ['expired', []],
  ];

  it.each(allowed)('from %s allows exactly %j', (from, to) => {
    expect(MESSAGE_STATUSES.filter((s) => canTransition(from, s))).toEqual(
      MESSAGE_STATUSES.filter((s) => to.includes(s)),
    );
  });

  it('never moves back from sent, and a provider cannot cancel what it has', () => {
    expect(canTransition('sent', 'sending')).toBe(false);
    expect(canTransition('sent', 'canceled')).toBe(false);
    expect(canTransition('delivered', 'sent')).toBe(false);
  });

  it('knows the terminal statuses', () => {
    expect(MESSAGE_STATUSES.filter(isTerminal)).toEqual([
      'delivered',
      'undelivered',
      'failed',
      'canceled',
      'expired',
    ]);
  });

  it('never expires a message once a provider has it', () => {
    for (const from of ['sent', 'unknown', 'delivered'] as const)
      expect(canTransition(from, 'expired')).toBe(false);
  });
});
