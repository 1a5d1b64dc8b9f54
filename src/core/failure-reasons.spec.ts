import { SKIP_REASONS } from '../campaigns/campaign-plan';
import { SPEND_CAP_SKIP } from '../messaging/policies/spend-cap.policy';
import type { DestinationRule } from '../messaging/policies/destination-rules';
import { OUTCOME_UNKNOWN, WORKER_LOST } from '../messaging/receipts/outcome-resolver.service';
import {
  describeFailure,
  describeSkip,
  FAILURE_REASON_CODES,
  FAILURE_REASONS,
  FailureReason,
  failureOf,
  ProviderCodeReading,
} from './failure-reasons';
import { MESSAGE_STATUSES } from './message-types';

/** A reader that knows one code, so these tests need no provider. */
const reader = (code: string): ProviderCodeReading | null =>
  code === 'acme:42' ? { reason: 'unreachable', provider: 'sandbox', code: '42', label: 'Acme 42' } : null;

describe('failure reasons: the catalogue', () => {
  it.each(FAILURE_REASON_CODES)('%s says what happened and what to do, in English and Turkish', (reason) => {
    const entry = FAILURE_REASONS[reason];
    expect(typeof entry.retryable).toBe('boolean');
    for (const lang of ['en', 'tr'] as const) {
      const { what, todo } = entry[lang];
      expect(what).toMatch(/^[A-ZÇĞİÖŞÜ]/u); // a sentence's start
      expect(what).not.toMatch(/[.;:]$/);
      expect(todo).toMatch(/^[a-zçğıöşü]/u); // continues the sentence
      expect(todo).not.toMatch(/[.;:]$/);
    }
    expect(entry.tr.what).not.toBe(entry.en.what);
    expect(entry.tr.todo).not.toBe(entry.en.todo);
    const f = describeFailure(reason);
    expect(f).toEqual({
      reason,
      retryable: entry.retryable,
      provider: null,
      provider_code: null,
      message: { en: expect.stringMatching(/^.+: .+; .+\.$/), tr: expect.stringMatching(/^.+: .+; .+\.$/) },
    });
  });

  it('reason codes are snake_case and every sentence is distinct', () => {
    for (const r of FAILURE_REASON_CODES) expect(r).toMatch(/^[a-z]+(_[a-z]+)*$/);
    const en = FAILURE_REASON_CODES.map((r) => FAILURE_REASONS[r].en.what);
    const tr = FAILURE_REASON_CODES.map((r) => FAILURE_REASONS[r].tr.what);
    expect(new Set(en).size).toBe(en.length);
    expect(new Set(tr).size).toBe(tr.length);
  });

  it('names the provider code in brackets and says whether retrying helps', () => {
    const f = describeFailure('number_not_in_service', {
      provider: 'twilio',
      code: '30005',
      label: 'Twilio 30005',
    });
    expect(f).toEqual({
      reason: 'number_not_in_service',
      retryable: false,
      provider: 'twilio',
      provider_code: '30005',
      message: {
        en: 'Number not in service (Twilio 30005): check the number; retrying will not help.',
        tr: 'Numara kullanımda değil (Twilio 30005): numarayı kontrol edin; yeniden denemek işe yaramaz.',
      },
    });
    expect(describeFailure('unreachable').message.en).toMatch(/; retrying later may help\.$/);
    expect(describeFailure('unreachable').message.tr).toMatch(
      /; daha sonra yeniden denemek işe yarayabilir\.$/,
    );
  });

  it('warns that resending an unknown outcome may deliver it twice', () => {
    for (const r of ['provider_timeout', 'send_interrupted', 'outcome_unknown'] as const) {
      const f = describeFailure(r);
      expect(f.retryable).toBe(false);
      expect(f.message.en).toMatch(/resending may deliver it twice\.$/);
      expect(f.message.tr).toMatch(/iki kez ulaşmasına yol açabilir\.$/);
    }
  });
});

describe('failure reasons: a message', () => {
  it('has none while it may still arrive, or once it did, whatever its last error', () => {
    for (const status of ['scheduled', 'queued', 'sending', 'sent', 'delivered'])
      expect(failureOf(status, 'acme:42', reader)).toBeNull();
  });

  it('has one in every status that is not a success or on its way', () => {
    const failing = MESSAGE_STATUSES.filter((s) => failureOf(s, null, reader) !== null);
    expect(failing).toEqual(['unknown', 'undelivered', 'failed', 'canceled', 'expired']);
    expect(failureOf('expired', null, reader)?.reason).toBe('validity_expired');
  });

  const cases: [string, string | null, FailureReason][] = [
    ['failed', 'acme:42', 'unreachable'], // a provider's code, read by the provider
    ['failed', 'acme:43', 'unknown_error'], // a code no provider knows
    ['failed', 'no-colon', 'unknown_error'],
    ['failed', null, 'unknown_error'],
    ['undelivered', null, 'unknown_error'],
    ['canceled', 'tenant_deactivated', 'tenant_deactivated'],
    ['canceled', null, 'canceled'], // by a tenant or a campaign's cancel
    ['unknown', OUTCOME_UNKNOWN, 'outcome_unknown'],
    ['unknown', WORKER_LOST, 'send_interrupted'],
    ['unknown', 'timeout', 'provider_timeout'],
    ['unknown', null, 'outcome_unknown'],
    ['failed', 'internal_error', 'internal_error'],
    ['failed', 'circuit_open', 'provider_unavailable'],
    ['failed', 'no_provider_available', 'provider_unavailable'],
    ['expired', 'validity_expired', 'validity_expired'],
  ];
  it.each(cases)('%s with error_code %s reads as %s', (status, code, reason) => {
    expect(failureOf(status, code, reader)?.reason).toBe(reason);
  });

  it("keeps the provider's code and label from its reading", () => {
    expect(failureOf('undelivered', 'acme:42', reader)).toMatchObject({
      provider: 'sandbox',
      provider_code: '42',
      message: { en: expect.stringContaining('(Acme 42): ') },
    });
    expect(failureOf('failed', 'internal_error', reader)).toMatchObject({
      provider: null,
      provider_code: null,
    });
  });
});

describe('failure reasons: what a campaign skips', () => {
  const destinationRules: DestinationRule[] = ['country_not_allowed', 'premium_rate', 'shared_cost'];
  it.each([...SKIP_REASONS, SPEND_CAP_SKIP, 'too_long', 'no_consent', ...destinationRules])(
    '%s has a sentence',
    (name) => {
      const f = describeSkip(name);
      expect(f?.message.en).toMatch(/^.+: .+; .+\.$/);
      expect(f?.message.tr).toMatch(/^.+: .+; .+\.$/);
    },
  );

  it('reads the accept path’s names as the catalogue’s reasons', () => {
    expect(describeSkip('invalid_phone')?.reason).toBe('invalid_number');
    expect(describeSkip('too_long')?.reason).toBe('message_too_long');
    expect(describeSkip('inactive')?.reason).toBe('inactive_recipient');
    expect(describeSkip('spend_cap_reached')?.retryable).toBe(true);
    expect(describeSkip('opted_out')?.retryable).toBe(false);
    expect(describeSkip('no_such_reason')).toBeNull();
  });
});
