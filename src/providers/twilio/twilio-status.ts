/** Twilio's status vocabulary (the sandbox speaks it too). Pure. */
import { MessageStatus } from '../../core';

/** Maps a Twilio status word to ours; null for states that tell us nothing new. */
export function fromTwilioStatus(s: string): MessageStatus | null {
  switch (s.toLowerCase()) {
    case 'sending':
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'canceled';
    default:
      return null; // queued, accepted, scheduled: nothing new for us
  }
}
