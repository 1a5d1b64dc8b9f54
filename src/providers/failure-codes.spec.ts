import type { FailureReason } from '../core/failure-reasons';
import { messageFailure, readErrorCode } from './failure-codes';
import { SandboxProvider } from './sandbox/sandbox.provider';
import { ProviderError } from './sms-provider';
import { parseSnsEvent, SNS_EVENT_STATUS } from './sns/sns-events';
import { classifySnsError } from './sns/sns.provider';
import { classifyTwilioError } from './twilio/twilio.provider';
import { parseTwilioStatus } from './twilio/twilio-webhooks';

/** What the ledger stores for a receipt: `<provider>:<code>` (messaging's ReceiptsService). */
const stored = (provider: string, code: string) => `${provider}:${code}`;
const reasonOf = (errorCode: string) => messageFailure('failed', errorCode)?.reason;

describe('Twilio codes as failure reasons', () => {
  const table: [number, FailureReason][] = [
    [21211, 'invalid_number'],
    [21408, 'destination_not_supported'],
    [21610, 'opted_out'],
    [21612, 'destination_not_supported'],
    [21614, 'not_mobile'],
    [21635, 'not_mobile'],
    [30001, 'rate_limited'],
    [30002, 'provider_account'],
    [30003, 'unreachable'],
    [30004, 'blocked_by_recipient'],
    [30005, 'number_not_in_service'],
    [30006, 'not_mobile'],
    [30007, 'spam_filtered'],
    [30008, 'unknown_error'],
    [30010, 'provider_account'],
    [30022, 'rate_limited'],
    [30032, 'sender_not_registered'],
    [30034, 'sender_not_registered'],
    [30036, 'delivery_expired'],
    [30410, 'provider_unavailable'],
  ];

  it.each(table)('a status callback with ErrorCode %i reads as %s', (code, reason) => {
    const receipt = parseTwilioStatus({
      MessageSid: `SM${'0'.repeat(32)}`,
      MessageStatus: 'undelivered',
      ErrorCode: String(code),
    });
    const f = messageFailure('undelivered', stored(receipt.provider, receipt.errorCode as string));
    expect(f).toMatchObject({ reason, provider: 'twilio', provider_code: String(code) });
    expect(f?.message.en).toContain(`(Twilio ${code}): `);
    expect(f?.message.tr).toContain(`(Twilio ${code}): `);
  });

  it('reads a code it does not list as unknown_error, still naming it', () => {
    expect(messageFailure('undelivered', 'twilio:39999')).toMatchObject({
      reason: 'unknown_error',
      provider: 'twilio',
      provider_code: '39999',
      message: { en: expect.stringContaining('(Twilio 39999)') },
    });
  });

  // Whatever classifyTwilioError writes on the row is read back, not lost in unknown_error.
  const thrown: [string, unknown, FailureReason][] = [
    ['21211 invalid To', { status: 400, code: 21211, message: 'invalid' }, 'invalid_number'],
    ['21610 STOP', { status: 400, code: 21610, message: 'unsubscribed' }, 'opted_out'],
    ['21614 not mobile', { status: 400, code: 21614, message: 'not mobile' }, 'not_mobile'],
    ['21408 region', { status: 400, code: 21408, message: 'region' }, 'destination_not_supported'],
    ['21602 empty body', { status: 400, code: 21602, message: 'body required' }, 'message_invalid'],
    ['a timeout', { code: 'ETIMEDOUT', message: 'timeout' }, 'provider_timeout'],
    ['a refused socket', { code: 'ECONNREFUSED' }, 'provider_unavailable'],
    ['a 503', { status: 503, code: 20503, message: 'down' }, 'provider_unavailable'],
    ['a 429', { status: 429, code: 20429, message: 'slow down' }, 'rate_limited'],
    ['bad credentials', { status: 401, code: 20003, message: 'Authenticate' }, 'provider_account'],
    ['something else', new Error('boom'), 'unknown_error'],
  ];
  it.each(thrown)('a send that failed with %s reads as its reason', (_what, error, reason) => {
    expect(reasonOf(classifyTwilioError(error).code)).toBe(reason);
  });

  it('labels an HTTP status as such', () => {
    expect(readErrorCode('twilio:http_503')).toEqual({
      reason: 'provider_unavailable',
      provider: 'twilio',
      code: 'http_503',
      label: 'Twilio HTTP 503',
    });
  });
});

describe('SNS codes as failure reasons', () => {
  const events: [string, FailureReason][] = [
    ['TEXT_BLOCKED', 'blocked_by_recipient'],
    ['TEXT_CARRIER_BLOCKED', 'spam_filtered'],
    ['TEXT_SPAM', 'spam_filtered'],
    ['TEXT_CARRIER_UNREACHABLE', 'carrier_unreachable'],
    ['TEXT_UNREACHABLE', 'unreachable'],
    ['TEXT_TTL_EXPIRED', 'delivery_expired'],
    ['TEXT_INVALID', 'invalid_number'],
    ['TEXT_INVALID_MESSAGE', 'message_invalid'],
    ['TEXT_PROTECT_BLOCKED', 'destination_not_supported'],
    ['TEXT_OPTED_OUT', 'opted_out'],
  ];

  it('lists every delivery event that ends a message', () => {
    const ending = Object.entries(SNS_EVENT_STATUS)
      .filter(([, s]) => s === 'failed' || s === 'undelivered')
      .map(([e]) => e);
    expect(ending.sort()).toEqual(events.map(([e]) => e).sort());
  });

  it.each(events)('a %s event reads as %s', (eventType, reason) => {
    const parsed = parseSnsEvent(JSON.stringify({ eventType, messageId: 'abc-123' }), new Date());
    if (parsed.kind !== 'receipt') throw new Error('not a receipt');
    const { receipt } = parsed;
    const f = messageFailure(receipt.status as string, stored(receipt.provider, receipt.errorCode as string));
    expect(f).toMatchObject({ reason, provider: 'sns', provider_code: eventType });
    expect(f?.message.en).toContain(`(SNS ${eventType}): `);
  });

  it('reads the messageStatus words of the same events', () => {
    expect(reasonOf('sns:UNREACHABLE')).toBe('unreachable');
    expect(reasonOf('sns:MAX_PRICE_EXCEEDED')).toBe('provider_account');
    expect(reasonOf('sns:DESTINATION_COUNTRY_BLOCKED')).toBe('destination_not_supported');
    expect(reasonOf('sns:TEXT_UNKNOWN')).toBe('unknown_error');
  });

  const thrown: [string, unknown, FailureReason][] = [
    [
      'InvalidParameter',
      { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } },
      'invalid_number',
    ],
    ['OptedOut', { name: 'OptedOutException', $metadata: { httpStatusCode: 400 } }, 'opted_out'],
    ['Throttled', { name: 'ThrottledException', $metadata: { httpStatusCode: 429 } }, 'rate_limited'],
    [
      'InternalError',
      { name: 'InternalErrorException', $metadata: { httpStatusCode: 500 } },
      'provider_unavailable',
    ],
    [
      'AuthorizationError',
      { name: 'AuthorizationErrorException', $metadata: { httpStatusCode: 403 } },
      'provider_account',
    ],
    ['a timeout', { name: 'TimeoutError' }, 'provider_timeout'],
    ['a reset socket', { name: 'Error', code: 'ECONNRESET' }, 'provider_unavailable'],
    [
      'an error it does not list',
      { name: 'WeirdException', $metadata: { httpStatusCode: 400 } },
      'unknown_error',
    ],
  ];
  it.each(thrown)('a Publish that failed with %s reads as its reason', (_what, error, reason) => {
    expect(reasonOf(classifySnsError(error).code)).toBe(reason);
  });
});

describe("the sandbox's magic numbers as failure reasons", () => {
  const sandbox = new SandboxProvider({ latencyMs: 0, deliveryDelayMs: 0, slowReceiptMs: 0 });
  it.each([
    ['+15005550001', 'invalid_number'],
    ['+15005550004', 'opted_out'],
    ['+15005550009', 'not_mobile'],
    ['+15005550010', 'provider_unavailable'],
  ])('%s fails as %s', async (to, reason) => {
    const error = await sandbox
      .send({ messageId: 'm', tenantId: 1, to, body: 'hi', messageType: 'general_notification' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ProviderError);
    expect(messageFailure('failed', (error as ProviderError).code)).toMatchObject({
      reason,
      provider: 'sandbox',
    });
  });
});

describe('codes no provider owns', () => {
  it('are not read by the providers', () => {
    expect(readErrorCode('tenant_deactivated')).toBeNull();
    expect(readErrorCode('acme:1')).toBeNull();
    expect(readErrorCode(':1')).toBeNull();
  });
});
