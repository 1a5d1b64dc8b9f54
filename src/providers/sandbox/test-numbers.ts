/**
 * The test numbers: magic destinations with a known outcome, so a platform team can try its
 * handling of every outcome end to end (docs/sending.md, "Test numbers"). The sandbox provider
 * answers them, whether it is the configured provider or the one every test-mode message goes to;
 * any other number is simply delivered. Pure: no clock, no I/O.
 *
 * Every number is a US +1 500 "personal number" that the service's phone validation
 * (libphonenumber-js/max) accepts, so the accept path takes it like any other; the first ones are
 * Twilio's own test numbers (+15005550001, …0004, …0009), with Twilio's error codes.
 */

/** The outcome a test number stands for. */
export type TestOutcome =
  | 'delivered'
  | 'undelivered'
  | 'failed'
  | 'failed_then_delivered'
  | 'slow_receipt'
  | 'opted_out'
  | 'invalid'
  | 'outage';

/** What the sandbox does with one attempt to a number. */
export type SandboxAnswer =
  | {
      kind: 'error';
      /** permanent: the message fails at once; retryable: the attempt is spent and retried. */
      failure: 'permanent' | 'retryable';
      code: string;
      message: string;
      /** The recipient opted out (STOP): the number goes on the tenant's opt-out list. */
      optedOut: boolean;
    }
  | {
      kind: 'accepted';
      /** The delivery receipt that follows. */
      receipt: 'delivered' | 'undelivered';
      /** The receipt's error code (the provider's own, without prefix), for `undelivered`. */
      errorCode?: string;
      /** The receipt comes after SANDBOX_SLOW_RECEIPT_MS instead of SANDBOX_DELIVERY_DELAY_MS. */
      slow: boolean;
    };

export interface TestNumber {
  /** E.164. */
  number: string;
  outcome: TestOutcome;
  /** One line for people: what happens to a message sent to it. */
  description: string;
  /** The answer to the first attempt. */
  first: SandboxAnswer;
  /** The answer to every later attempt; absent: the same as the first. */
  later?: SandboxAnswer;
}

const delivered: SandboxAnswer = { kind: 'accepted', receipt: 'delivered', slow: false };

const refused = (failure: 'permanent' | 'retryable', code: string, message: string): SandboxAnswer => ({
  kind: 'error',
  failure,
  code: `sandbox:${code}`,
  message,
  optedOut: false,
});

/** Every test number, in the order the docs list them. */
export const TEST_NUMBERS: readonly TestNumber[] = [
  {
    number: '+15005550011',
    outcome: 'delivered',
    description: 'sent, then delivered after SANDBOX_DELIVERY_DELAY_MS',
    first: delivered,
  },
  {
    number: '+15005550012',
    outcome: 'undelivered',
    description: 'sent, then a receipt says undelivered with error sandbox:30003 (unreachable handset)',
    first: { kind: 'accepted', receipt: 'undelivered', errorCode: '30003', slow: false },
  },
  {
    number: '+15005550009',
    outcome: 'failed',
    description: 'refused for good at the first attempt: sandbox:21614 (not SMS-capable), no retry',
    first: refused('permanent', '21614', 'number is not SMS-capable (test number)'),
  },
  {
    number: '+15005550013',
    outcome: 'failed_then_delivered',
    description:
      'the first attempt fails retryably (sandbox:http_503), the retry is sent and delivered: attempts 2',
    first: refused('retryable', 'http_503', 'first attempt fails (test number); the retry goes through'),
    later: delivered,
  },
  {
    number: '+15005550014',
    outcome: 'slow_receipt',
    description: 'sent, and stays sent until a delivered receipt after SANDBOX_SLOW_RECEIPT_MS (30 s)',
    first: { kind: 'accepted', receipt: 'delivered', slow: true },
  },
  {
    number: '+15005550004',
    outcome: 'opted_out',
    description:
      "refused with sandbox:21610 (the recipient said STOP): failed, and the number goes on the tenant's opt-out list",
    first: {
      kind: 'error',
      failure: 'permanent',
      code: 'sandbox:21610',
      message: 'recipient has opted out (blocked)',
      optedOut: true,
    },
  },
  {
    number: '+15005550001',
    outcome: 'invalid',
    description: 'refused for good at the first attempt: sandbox:21211 (invalid phone number), no retry',
    first: refused('permanent', '21211', 'invalid phone number'),
  },
  {
    number: '+15005550010',
    outcome: 'outage',
    description:
      'every attempt fails retryably (sandbox:http_503): retried, then failed after SMS_MAX_ATTEMPTS',
    first: refused('retryable', 'http_503', 'sandbox outage'),
  },
];

const BY_NUMBER = new Map(TEST_NUMBERS.map((t) => [t.number, t]));

/** The test number `e164` is, or undefined. */
export function testNumber(e164: string): TestNumber | undefined {
  return BY_NUMBER.get(e164);
}

export function isTestNumber(e164: string): boolean {
  return BY_NUMBER.has(e164);
}

/**
 * What the sandbox answers to attempt `attempt` (1 = the first) of a message to `e164`: a test
 * number's scripted answer, else accepted and delivered. Without an attempt number (a caller that
 * does not count), the first attempt's answer.
 */
export function sandboxAnswer(e164: string, attempt = 1): SandboxAnswer {
  const t = BY_NUMBER.get(e164);
  if (!t) return delivered;
  return attempt > 1 && t.later ? t.later : t.first;
}
