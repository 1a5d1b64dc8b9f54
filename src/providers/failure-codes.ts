/**
 * The stored `error_code` of a message (`<provider>:<code>`, written from a ProviderError or a
 * receipt) read as a failure reason by the provider that owns the code. Pure: a message that
 * failed on a provider no longer configured is still read.
 */
import { failureOf, FailureReason, MessageFailure, ProviderCodeReading } from '../core/failure-reasons';
import type { ProviderName } from '../core/message-types';
import { snsReason } from './sns/sns-reasons';
import { CONNECTION_ERROR_CODES } from './sms-provider';
import { twilioReason } from './twilio/twilio-reasons';

interface CodeOwner {
  /** How the sentence names the provider: `Twilio 30005`. */
  name: string;
  reason(code: string): FailureReason | null;
}

/** One per provider (a new provider must say how its codes read). */
const OWNERS: Record<ProviderName, CodeOwner> = {
  twilio: { name: 'Twilio', reason: twilioReason },
  sns: { name: 'SNS', reason: snsReason },
  // The sandbox's failures are Twilio's magic numbers (sandbox.provider.ts).
  sandbox: {
    name: 'sandbox',
    reason: (code) => (code === 'unexpected' ? 'internal_error' : twilioReason(code)),
  },
};

/**
 * Codes every provider's classifier and the router write alike: a timeout (outcome unknown),
 * a provider not called (its attempt could not be recorded), a socket error.
 */
function sharedReason(code: string): FailureReason | null {
  if (code === 'timeout') return 'provider_timeout';
  if (code === 'not_called' || CONNECTION_ERROR_CODES.has(code)) return 'provider_unavailable';
  return null;
}

/** `twilio:30005` → its reason, the provider and its own code; null when no provider owns the prefix. */
export function readErrorCode(errorCode: string): ProviderCodeReading | null {
  const at = errorCode.indexOf(':');
  if (at <= 0) return null;
  const provider = errorCode.slice(0, at);
  if (!Object.hasOwn(OWNERS, provider)) return null;
  const owner = OWNERS[provider as ProviderName];
  const code = errorCode.slice(at + 1);
  return {
    reason: sharedReason(code) ?? owner.reason(code) ?? 'unknown_error',
    provider: provider as ProviderName,
    code,
    label: `${owner.name} ${code.replace(/^http_(\d{3})$/, 'HTTP $1')}`,
  };
}

/**
 * A message's `failure` (status, history, callbacks): null unless it failed, was not delivered,
 * was canceled or expired, or its outcome is unknown.
 */
export function messageFailure(status: string, errorCode: string | null): MessageFailure | null {
  return failureOf(status, errorCode, readErrorCode);
}
