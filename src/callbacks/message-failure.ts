import { messageFailure } from '../providers';

/**
 * A message status event (`message.sent`, `message.failed`…, written by the ledger's outbox
 * trigger with the message's `status` and `error_code`) gains `failure`, the same object the
 * status API answers (null when the message did not fail). Added when the body is built, so the
 * trigger's SQL stays as it is and a replayed delivery reads the same. Other events are left as
 * they are.
 */
export function withMessageFailure(type: string, data: Record<string, unknown>): Record<string, unknown> {
  if (!type.startsWith('message.') || typeof data.status !== 'string' || !('error_code' in data)) return data;
  const code = typeof data.error_code === 'string' ? data.error_code : null;
  return { ...data, failure: messageFailure(data.status, code) };
}
