import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validatePhoneNumber } from '../../phone';
import { ProviderError } from '../sms-provider';
import { SandboxProvider } from './sandbox.provider';
import { isTestNumber, sandboxAnswer, TEST_NUMBERS, TestOutcome } from './test-numbers';

describe('test numbers', () => {
  it('has one number for each outcome the docs promise', () => {
    const outcomes: TestOutcome[] = [
      'delivered',
      'undelivered',
      'failed',
      'failed_then_delivered',
      'slow_receipt',
      'opted_out',
      'invalid',
      'outage',
    ];
    expect(TEST_NUMBERS.map((t) => t.outcome).sort()).toEqual([...outcomes].sort());
    expect(new Set(TEST_NUMBERS.map((t) => t.number)).size).toBe(TEST_NUMBERS.length);
  });

  it.each(TEST_NUMBERS.map((t) => [t.number, t.outcome]))(
    '%s (%s) passes the service phone validation as itself, written with or without +1',
    (number) => {
      expect(validatePhoneNumber(number, 'US')).toMatchObject({ valid: true, e164: number, country: 'US' });
      // National form in a US deployment; a Turkish deployment's default country does not change it.
      expect(validatePhoneNumber(number.slice(2), 'US')).toMatchObject({ valid: true, e164: number });
      expect(validatePhoneNumber(number, 'TR')).toMatchObject({ valid: true, e164: number });
    },
  );

  it("keeps Twilio's own test numbers and codes", () => {
    expect(sandboxAnswer('+15005550001')).toMatchObject({
      kind: 'error',
      failure: 'permanent',
      code: 'sandbox:21211',
    });
    expect(sandboxAnswer('+15005550004')).toMatchObject({
      kind: 'error',
      code: 'sandbox:21610',
      optedOut: true,
    });
    expect(sandboxAnswer('+15005550009')).toMatchObject({
      kind: 'error',
      failure: 'permanent',
      code: 'sandbox:21614',
    });
    expect(sandboxAnswer('+15005550010')).toMatchObject({ kind: 'error', failure: 'retryable' });
  });

  it('answers each attempt as scripted', () => {
    const answers = (n: string) => [1, 2, 3].map((attempt) => sandboxAnswer(n, attempt));
    const accepted = (receipt: string, slow = false) =>
      expect.objectContaining({ kind: 'accepted', receipt, slow });
    const error = (failure: string, code: string, optedOut = false) =>
      expect.objectContaining({ kind: 'error', failure, code, optedOut });
    expect(answers('+15005550011')).toEqual([
      accepted('delivered'),
      accepted('delivered'),
      accepted('delivered'),
    ]);
    expect(sandboxAnswer('+15005550012')).toEqual({
      kind: 'accepted',
      receipt: 'undelivered',
      errorCode: '30003',
      slow: false,
    });
    expect(answers('+15005550013')).toEqual([
      error('retryable', 'sandbox:http_503'),
      accepted('delivered'),
      accepted('delivered'),
    ]);
    expect(answers('+15005550014')).toEqual([
      accepted('delivered', true),
      accepted('delivered', true),
      accepted('delivered', true),
    ]);
    expect(answers('+15005550010')).toEqual(Array(3).fill(error('retryable', 'sandbox:http_503')));
    expect(answers('+15005550009')).toEqual(Array(3).fill(error('permanent', 'sandbox:21614')));
    expect(answers('+15005550004')).toEqual(Array(3).fill(error('permanent', 'sandbox:21610', true)));
    expect(answers('+15005550001')).toEqual(Array(3).fill(error('permanent', 'sandbox:21211')));
  });

  it('delivers any other number', () => {
    for (const n of ['+12025550123', '+905321234567', '+15005550006', '+15005550015']) {
      expect(isTestNumber(n)).toBe(false);
      expect(sandboxAnswer(n, 1)).toEqual({ kind: 'accepted', receipt: 'delivered', slow: false });
    }
  });

  it('are the table of docs/sending.md, "Test numbers"', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/sending.md'), 'utf8');
    const section = doc.split('\n## Test numbers\n')[1]?.split('\n## ')[0] ?? '';
    const rows = [...section.matchAll(/^\| `(\+\d+)` \| ([a-z_]+) \|/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(TEST_NUMBERS.map((t) => [t.number, t.outcome]));
  });
});

describe('the sandbox provider with the test numbers', () => {
  const receipts: { id: string; status: string; errorCode?: string; at: number }[] = [];
  let sandbox: SandboxProvider;

  beforeEach(() => {
    jest.useFakeTimers();
    receipts.length = 0;
    sandbox = new SandboxProvider({
      latencyMs: 0,
      deliveryDelayMs: 1_000,
      slowReceiptMs: 30_000,
      onDeliveryReceipt: (id, status, errorCode) => receipts.push({ id, status, errorCode, at: Date.now() }),
    });
  });
  afterEach(() => {
    sandbox.close();
    jest.useRealTimers();
  });

  const sms = (to: string, attempt?: number) => ({
    messageId: 'm',
    tenantId: 1,
    to,
    body: 'hi',
    messageType: 'general_notification' as const,
    attempt,
  });

  it('gives the receipts each number scripts, each after its own delay', async () => {
    const start = Date.now();
    const slow = await sandbox.send(sms('+15005550014', 1));
    const delivered = await sandbox.send(sms('+15005550011', 1));
    const undelivered = await sandbox.send(sms('+15005550012', 1));
    const other = await sandbox.send(sms('+12025550123', 1));

    await jest.advanceTimersByTimeAsync(1_000);
    expect(receipts).toEqual([
      { id: delivered.providerMessageId, status: 'delivered', errorCode: undefined, at: start + 1_000 },
      { id: undelivered.providerMessageId, status: 'undelivered', errorCode: '30003', at: start + 1_000 },
      { id: other.providerMessageId, status: 'delivered', errorCode: undefined, at: start + 1_000 },
    ]);
    // The slow one is still only sent, long after the others' receipts.
    await jest.advanceTimersByTimeAsync(28_000);
    expect(receipts).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(receipts[3]).toEqual({
      id: slow.providerMessageId,
      status: 'delivered',
      errorCode: undefined,
      at: start + 30_000,
    });
  });

  it('refuses the first attempt to the failed-then-retried number and takes the next', async () => {
    const first = await sandbox.send(sms('+15005550013', 1)).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ProviderError);
    expect(first).toMatchObject({ kind: 'retryable', code: 'sandbox:http_503', optedOut: false });
    const second = await sandbox.send(sms('+15005550013', 2));
    expect(second).toMatchObject({ provider: 'sandbox', status: 'sent', cost: null });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(receipts).toEqual([
      expect.objectContaining({ id: second.providerMessageId, status: 'delivered' }),
    ]);
  });

  it('says the opted-out number opted out, and refuses the invalid and failed ones for good', async () => {
    const fail = (to: string) => sandbox.send(sms(to, 1)).catch((e: unknown) => e as ProviderError);
    expect(await fail('+15005550004')).toMatchObject({
      kind: 'permanent',
      code: 'sandbox:21610',
      optedOut: true,
    });
    expect(await fail('+15005550001')).toMatchObject({
      kind: 'permanent',
      code: 'sandbox:21211',
      optedOut: false,
    });
    expect(await fail('+15005550009')).toMatchObject({
      kind: 'permanent',
      code: 'sandbox:21614',
      optedOut: false,
    });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(receipts).toEqual([]);
  });
});
