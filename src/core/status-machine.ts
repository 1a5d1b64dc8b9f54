/** The status machine of a message. Pure. */
import { MessageStatus } from './message-types';

/**
 * Forward-only moves. `sending → queued` is the one step back: a failed attempt waiting for its
 * retry; `unknown → queued` only once the provider proves it never created the message. Terminal statuses stay terminal: a late 'delivered' after 'failed' is recorded as an
 * event but does not change the message.
 */
const NEXT: Record<MessageStatus, readonly MessageStatus[]> = {
  // expired: not handed to a provider within its validity period (the claim, or the worker before
  // a fallback call once the first provider failed without taking it).
  scheduled: ['queued', 'sending', 'canceled', 'expired'],
  queued: ['sending', 'canceled', 'failed', 'expired'],
  sending: ['sent', 'queued', 'failed', 'delivered', 'undelivered', 'unknown', 'expired'],
  sent: ['delivered', 'undelivered', 'failed'],
  // Asked the provider later: found (sent or a receipt), or provably never created (queued again).
  unknown: ['sent', 'queued', 'delivered', 'undelivered', 'failed'],
  delivered: [],
  undelivered: [],
  failed: [],
  canceled: [],
  expired: [],
};

export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  return NEXT[from].includes(to);
}

export function isTerminal(status: MessageStatus): boolean {
  return NEXT[status].length === 0;
}
