import { canonicalString, isStale, parseSnsEnvelope, snsUrlProblem, SnsEnvelope } from './sns-message';

const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:sms-events';
const base: SnsEnvelope = {
  Type: 'Notification',
  MessageId: 'id-1',
  TopicArn: TOPIC,
  Message: '{"a":1}',
  Timestamp: '2026-01-15T10:00:00.000Z',
  SignatureVersion: '2',
  Signature: 'c2ln',
  SigningCertURL: 'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem',
};

describe('SNS messages', () => {
  it('builds the canonical string of a notification, Subject only when present', () => {
    expect(canonicalString(base)).toBe(
      `Message\n{"a":1}\nMessageId\nid-1\nTimestamp\n2026-01-15T10:00:00.000Z\nTopicArn\n${TOPIC}\nType\nNotification\n`,
    );
    expect(canonicalString({ ...base, Subject: 's' })).toContain('MessageId\nid-1\nSubject\ns\nTimestamp');
  });

  it('builds the canonical string of a subscription confirmation with SubscribeURL and Token', () => {
    const m = { ...base, Type: 'SubscriptionConfirmation' as const, SubscribeURL: 'u', Token: 't' };
    expect(canonicalString(m)).toBe(
      `Message\n{"a":1}\nMessageId\nid-1\nSubscribeURL\nu\nTimestamp\n2026-01-15T10:00:00.000Z\nToken\nt\nTopicArn\n${TOPIC}\nType\nSubscriptionConfirmation\n`,
    );
  });

  it.each([
    ['https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem', null],
    ['https://sns.eu-central-1.amazonaws.com.evil.com/x.pem', 'not sns.<region>'],
    ['https://evil.com/sns.eu-central-1.amazonaws.com/x.pem', 'not sns.<region>'],
    ['http://sns.eu-central-1.amazonaws.com/x.pem', 'not https'],
    ['https://sns.eu-central-1.amazonaws.com:8443/x.pem', 'not https on the default port'],
    ['https://sns.us-east-1.amazonaws.com/x.pem', "topic's region"],
    ['https://sns.eu-central-1.amazonaws.com/x.txt', '.pem'],
    ['https://sns.eu-central-1.amazonaws.com/x.pem', 'not an SNS signing certificate'],
    ['https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem?x=1', 'not an SNS signing'],
    ['https://user:pw@sns.eu-central-1.amazonaws.com/x.pem', 'credentials'],
    ['not a url', 'not a URL'],
  ])('certificate URL %s → %s', (url, problem) => {
    const got = snsUrlProblem(url, TOPIC, 'certificate', []);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toContain(problem);
  });

  it('trusts an allow-listed origin exactly', () => {
    expect(
      snsUrlProblem('http://127.0.0.1:4566/cert.pem', TOPIC, 'certificate', ['http://127.0.0.1:4566']),
    ).toBeNull();
    expect(
      snsUrlProblem('http://127.0.0.1:4567/cert.pem', TOPIC, 'certificate', ['http://127.0.0.1:4566']),
    ).not.toBeNull();
  });

  it('refuses unsigned or other-version envelopes as signature problems', () => {
    expect(() => parseSnsEnvelope({ ...base, Signature: undefined })).toThrow(/unsigned/);
    expect(() => parseSnsEnvelope({ ...base, SignatureVersion: '3' })).toThrow(/SignatureVersion/);
    expect(() => parseSnsEnvelope('{')).toThrow(/not JSON/);
    expect(parseSnsEnvelope(JSON.stringify(base))).toEqual(base);
  });

  it('is stale after an hour or when from the future', () => {
    const at = new Date(base.Timestamp).getTime();
    expect(isStale(base, new Date(at + 59 * 60_000), 3_600_000)).toBe(false);
    expect(isStale(base, new Date(at + 61 * 60_000), 3_600_000)).toBe(true);
    expect(isStale(base, new Date(at - 10 * 60_000), 3_600_000)).toBe(true);
  });
});
