import { ProviderName } from '../core/message-types';
import { CircuitBreaker } from './circuit-breaker';
import { ProviderRouter } from './provider-router';
import {
  AllProvidersFailedError,
  CircuitsOpenError,
  OutboundSms,
  ProviderError,
  ProviderFailureKind,
  ProviderNotCalledError,
  ProviderSendResult,
  SmsProvider,
} from './sms-provider';
import { classifySnsError } from './sns/sns.provider';
import { classifyTwilioError } from './twilio/twilio.provider';

/** A provider that answers from a script: 'ok' or a failure kind. */
class ScriptedProvider implements SmsProvider {
  calls = 0;
  constructor(
    readonly name: ProviderName,
    private readonly script: (ProviderFailureKind | 'ok')[],
  ) {}

  async send(): Promise<ProviderSendResult> {
    const step = this.script[Math.min(this.calls++, this.script.length - 1)];
    if (step === 'ok')
      return {
        provider: this.name,
        providerMessageId: `${this.name}-${this.calls}`,
        status: 'sent',
        cost: null,
        currency: null,
      };
    throw new ProviderError(this.name, step, `${this.name}:${step}`, `${this.name} said ${step}`);
  }

  classifyError(e: unknown): ProviderError {
    return new ProviderError(this.name, 'retryable', `${this.name}:unexpected`, String(e));
  }
}

const sms: OutboundSms = {
  messageId: 'm',
  tenantId: 1,
  to: '+12025550123',
  body: 'hi',
  messageType: 'general_notification',
};

describe('CircuitBreaker', () => {
  it('opens after the threshold, half-opens for one trial after the cool-down, and closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1000, now: () => now });
    b.recordFailure();
    expect(b.state()).toBe('closed');
    b.recordFailure();
    expect(b.state()).toBe('open');
    expect(b.canRequest()).toBe(false);
    now = 1000;
    expect(b.state()).toBe('half_open');
    expect(b.canRequest()).toBe(true);
    expect(b.canRequest()).toBe(false); // one trial at a time
    b.recordSuccess();
    expect(b.snapshot()).toEqual({ state: 'closed', consecutiveFailures: 0, openedAt: null });
  });

  it('opens again at once when the half-open trial fails', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) b.recordFailure();
    now = 1500;
    expect(b.canRequest()).toBe(true);
    b.recordFailure();
    expect(b.state()).toBe('open');
  });

  it('answers wouldAllow without taking the half-open trial', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, now: () => now });
    expect(b.wouldAllow()).toBe(true);
    b.recordFailure();
    expect(b.wouldAllow()).toBe(false);
    now = 1000;
    expect(b.wouldAllow()).toBe(true);
    expect(b.wouldAllow()).toBe(true); // asked twice: still free
    expect(b.canRequest()).toBe(true); // the trial is still there to take
    expect(b.wouldAllow()).toBe(false);
    b.releaseTrial();
    expect(b.canRequest()).toBe(true);
  });
});

describe('ProviderRouter', () => {
  const breaker = { failureThreshold: 2, cooldownMs: 60_000, now: () => 0 };

  it('falls back to the next provider on a retryable failure', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable']);
    const sns = new ScriptedProvider('sns', ['ok']);
    const out = await new ProviderRouter([twilio, sns], breaker).send(sms);
    expect(out.result.provider).toBe('sns');
    expect(out.tried).toEqual([{ provider: 'twilio', code: 'twilio:retryable' }, { provider: 'sns' }]);
  });

  it.each(['permanent', 'timeout'] as const)('stops at a %s failure without fallback', async (kind) => {
    const sns = new ScriptedProvider('sns', ['ok']);
    await expect(
      new ProviderRouter([new ScriptedProvider('twilio', [kind]), sns], breaker).send(sms),
    ).rejects.toMatchObject({ kind });
    expect(sns.calls).toBe(0);
  });

  it('throws AllProvidersFailedError with every attempt when all fail retryably', async () => {
    const router = new ProviderRouter(
      [new ScriptedProvider('twilio', ['retryable']), new ScriptedProvider('sns', ['retryable'])],
      breaker,
    );
    const err = await router.send(sms).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllProvidersFailedError);
    expect((err as AllProvidersFailedError).attempts.map((a) => a.provider)).toEqual(['twilio', 'sns']);
    expect((err as AllProvidersFailedError).code).toBe('sns:retryable');
  });

  it('skips a provider whose circuit is open, and does not count permanent errors against it', async () => {
    const twilio = new ScriptedProvider('twilio', ['permanent', 'permanent', 'retryable', 'retryable', 'ok']);
    const sns = new ScriptedProvider('sns', ['ok']);
    const router = new ProviderRouter([twilio, sns], breaker);
    await expect(router.send(sms)).rejects.toMatchObject({ kind: 'permanent' });
    await expect(router.send(sms)).rejects.toMatchObject({ kind: 'permanent' });
    expect(router.health().twilio.state).toBe('closed');
    await router.send(sms);
    await router.send(sms);
    expect(router.health().twilio.state).toBe('open');
    const out = await router.send(sms);
    expect(out.result.provider).toBe('sns');
    expect(twilio.calls).toBe(4);
  });
});

describe('ProviderRouter during outages (injected clock)', () => {
  let now = 0;
  const breaker = { failureThreshold: 1, cooldownMs: 1000, now: () => now };
  beforeEach(() => (now = 0));

  it('closes a half-open circuit when the trial ends in a permanent error (the provider is up)', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable', 'permanent', 'ok']);
    const router = new ProviderRouter([twilio], breaker);
    await expect(router.send(sms)).rejects.toBeInstanceOf(AllProvidersFailedError);
    expect(router.health().twilio.state).toBe('open');
    now = 1000;
    await expect(router.send(sms)).rejects.toMatchObject({ kind: 'permanent', code: 'twilio:permanent' });
    expect(router.health().twilio.state).toBe('closed');
    const out = await router.send(sms);
    expect(out.result.provider).toBe('twilio');
    expect(twilio.calls).toBe(3);
  });

  it('tries nothing while every circuit is open, and says when the next trial is due with the last real error', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable']);
    const sns = new ScriptedProvider('sns', ['ok', 'retryable']);
    const router = new ProviderRouter([twilio, sns], breaker);
    await router.send(sms); // twilio fails (open at 0), sns carries it
    now = 400;
    await expect(router.send(sms)).rejects.toBeInstanceOf(AllProvidersFailedError); // sns opens at 400
    now = 600;
    const err = await router.send(sms).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitsOpenError);
    expect(err).toMatchObject({
      retryAt: 1000, // twilio's cool-down ends first
      kind: 'retryable',
      code: 'sns:retryable',
      lastError: { provider: 'sns', code: 'sns:retryable', message: 'sns said retryable' },
    });
    expect((err as Error).message).not.toContain('circuit');
    expect([twilio.calls, sns.calls]).toEqual([1, 2]);
  });

  it('keeps the tried provider error, not a skipped circuit, when the others are open', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable']);
    const sns = new ScriptedProvider('sns', ['ok', 'retryable']);
    const router = new ProviderRouter([twilio, sns], breaker);
    await router.send(sms); // twilio open at 0
    now = 400;
    await router.send(sms).catch(() => undefined); // sns open at 400
    now = 1000; // twilio half-open, sns still open
    const failed = await router.send(sms).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AllProvidersFailedError);
    expect(failed).toMatchObject({ code: 'twilio:retryable', message: 'twilio: twilio said retryable' });
    expect((failed as AllProvidersFailedError).attempts).toEqual([
      { provider: 'twilio', code: 'twilio:retryable', message: 'twilio said retryable' },
    ]);
    // Now both are open: wait for sns's trial (opened at 400) or twilio's (opened at 1000).
    now = 1100;
    await expect(router.send(sms)).rejects.toMatchObject({
      retryAt: 1400,
      lastError: { provider: 'twilio', code: 'twilio:retryable' },
    });
  });

  it('classifies what a provider throws that is not a ProviderError with the provider itself', async () => {
    const odd: SmsProvider = {
      name: 'twilio',
      send: () => Promise.reject(new TypeError('boom')),
      classifyError: () => new ProviderError('twilio', 'permanent', 'twilio:odd', 'odd'),
    };
    await expect(new ProviderRouter([odd], breaker).send(sms)).rejects.toMatchObject({ code: 'twilio:odd' });
  });
});

describe('error classification', () => {
  it.each([
    [{ status: 400, code: 21211, message: 'invalid To' }, 'permanent', 'twilio:21211'],
    [{ status: 400, code: 21610, message: 'unsubscribed' }, 'permanent', 'twilio:21610'],
    [{ status: 400, code: 21614, message: 'not mobile' }, 'permanent', 'twilio:21614'],
    [{ status: 500, code: 20500 }, 'retryable', 'twilio:http_500'],
    [{ status: 429, code: 20429 }, 'retryable', 'twilio:http_429'],
    [{ status: 401, code: 20003 }, 'retryable', 'twilio:auth'],
    [{ code: 'ECONNREFUSED' }, 'retryable', 'twilio:ECONNREFUSED'],
    [{ code: 'ECONNABORTED', message: 'timeout of 400ms exceeded' }, 'timeout', 'twilio:timeout'],
  ])('Twilio %j is %s (%s)', (error, kind, code) => {
    expect(classifyTwilioError(error)).toMatchObject({ kind, code });
  });

  it.each([
    [
      { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } },
      'permanent',
      'sns:InvalidParameter',
    ],
    [{ name: 'OptedOutException', $metadata: { httpStatusCode: 400 } }, 'permanent', 'sns:OptedOut'],
    [
      { name: 'InternalErrorException', $metadata: { httpStatusCode: 500 } },
      'retryable',
      'sns:InternalError',
    ],
    [{ name: 'ThrottledException', $metadata: { httpStatusCode: 400 } }, 'retryable', 'sns:Throttled'],
    [{ name: 'Error', code: 'ECONNREFUSED' }, 'retryable', 'sns:ECONNREFUSED'],
    [{ name: 'TimeoutError' }, 'timeout', 'sns:timeout'],
  ])('SNS %j is %s (%s)', (error, kind, code) => {
    expect(classifySnsError(error)).toMatchObject({ kind, code });
  });

  it('marks a recipient who opted out (STOP), and nothing else', () => {
    expect(classifyTwilioError({ status: 400, code: 21610, message: 'unsubscribed' }).optedOut).toBe(true);
    expect(classifyTwilioError({ status: 400, code: 21211, message: 'invalid To' }).optedOut).toBe(false);
    expect(classifySnsError({ name: 'OptedOutException', $metadata: { httpStatusCode: 400 } }).optedOut).toBe(
      true,
    );
    expect(
      classifySnsError({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }).optedOut,
    ).toBe(false);
  });

  it('never puts credentials in an error message', () => {
    expect(
      classifyTwilioError({ status: 401, code: 20003, message: 'Authenticate AC123:secret' }).message,
    ).toBe('Twilio refused the credentials');
  });
});

describe('ProviderRouter peek and beforeCall hook', () => {
  let now = 0;
  const breaker = { failureThreshold: 1, cooldownMs: 1000, now: () => now };
  beforeEach(() => (now = 0));

  it('names the provider it would call first, and none when every circuit is open', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable', 'ok']);
    const sns = new ScriptedProvider('sns', ['ok', 'retryable']);
    const router = new ProviderRouter([twilio, sns], breaker);
    expect(router.firstUp()).toBe('twilio');
    await router.send(sms); // twilio opens, sns carries it
    expect(router.firstUp()).toBe('sns');
    await router.send(sms).catch(() => undefined); // sns opens too
    expect(router.firstUp()).toBeNull();
  });

  it('peeks at a half-open circuit without taking its trial', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable', 'ok']);
    const sns = new ScriptedProvider('sns', ['ok']);
    const router = new ProviderRouter([twilio, sns], breaker);
    await router.send(sms); // twilio open at 0
    now = 1000;
    for (let i = 0; i < 3; i++) expect(router.firstUp()).toBe('twilio');
    const out = await router.send(sms);
    expect(out.result.provider).toBe('twilio'); // the trial was still free
    expect(router.health().twilio.state).toBe('closed');
  });

  it('calls beforeCall with each provider before calling it, and never for a skipped one', async () => {
    const order: string[] = [];
    const said = (name: ProviderName, script: (ProviderFailureKind | 'ok')[]): SmsProvider => {
      const p = new ScriptedProvider(name, script);
      return {
        name,
        send: () => {
          order.push(`call ${name}`);
          return p.send();
        },
        classifyError: (e) => p.classifyError(e),
      };
    };
    const router = new ProviderRouter([said('twilio', ['retryable']), said('sns', ['ok', 'ok'])], breaker);
    const beforeCall = async (provider: ProviderName) => {
      order.push(`before ${provider}`);
      await Promise.resolve();
    };
    await router.send(sms, { beforeCall });
    expect(order).toEqual(['before twilio', 'call twilio', 'before sns', 'call sns']);
    order.length = 0;
    await router.send(sms, { beforeCall }); // twilio's circuit is open now
    expect(order).toEqual(['before sns', 'call sns']);
  });

  it('does not call a provider whose beforeCall fails, and ends the send as retryable', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable']);
    const sns = new ScriptedProvider('sns', ['ok']);
    const router = new ProviderRouter([twilio, sns], breaker);
    const err = await router
      .send(sms, {
        beforeCall: (p) => (p === 'sns' ? Promise.reject(new Error('database down')) : undefined),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderNotCalledError);
    expect(err).toMatchObject({
      provider: 'sns',
      kind: 'retryable',
      code: 'sns:not_called',
      attempts: [{ provider: 'twilio', code: 'twilio:retryable', message: 'twilio said retryable' }],
    });
    expect((err as Error).message).toContain('database down');
    expect([twilio.calls, sns.calls]).toEqual([1, 0]);
    expect(router.health().sns.state).toBe('closed'); // not counted against sns
  });

  it('gives back the half-open trial it took for a call that beforeCall stopped', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable', 'ok']);
    const router = new ProviderRouter([twilio], breaker);
    await router.send(sms).catch(() => undefined); // open at 0
    now = 1000;
    await expect(
      router.send(sms, {
        beforeCall: () => {
          throw new Error('not recorded');
        },
      }),
    ).rejects.toBeInstanceOf(ProviderNotCalledError);
    expect(twilio.calls).toBe(1);
    expect(router.firstUp()).toBe('twilio'); // the trial is free again
    expect((await router.send(sms)).result.provider).toBe('twilio');
  });
});

describe('ProviderRouter: the order of one send, and its listener', () => {
  const breaker = { failureThreshold: 1, cooldownMs: 60_000, now: () => 0 };

  it('tries the send’s own order, and falls back along it', async () => {
    const twilio = new ScriptedProvider('twilio', ['ok']);
    const sns = new ScriptedProvider('sns', ['retryable']);
    const router = new ProviderRouter([twilio, sns], breaker);
    const out = await router.send(sms, {}, { order: ['sns', 'twilio'] });
    expect(out.result.provider).toBe('twilio');
    expect(out.tried).toEqual([{ provider: 'sns', code: 'sns:retryable' }, { provider: 'twilio' }]);
  });

  it('leaves out names it does not configure', async () => {
    const twilio = new ScriptedProvider('twilio', ['ok']);
    const router = new ProviderRouter([twilio], breaker);
    expect((await router.send(sms, {}, { order: ['sns', 'twilio'] })).tried).toEqual([
      { provider: 'twilio' },
    ]);
  });

  it('tells the listener how each call ended, and a listener that throws changes nothing', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable']);
    const sns = new ScriptedProvider('sns', ['ok']);
    const router = new ProviderRouter([twilio, sns], breaker);
    const heard: [string, string][] = [];
    const out = await router.send(
      sms,
      {},
      {
        onCall: (p, outcome) => {
          heard.push([p, outcome]);
          throw new Error('listener failed');
        },
      },
    );
    expect(out.result.provider).toBe('sns');
    expect(heard).toEqual([
      ['twilio', 'retryable'],
      ['sns', 'ok'],
    ]);
  });

  it('peeks at one provider and at the first up of an order', async () => {
    const twilio = new ScriptedProvider('twilio', ['retryable']);
    const sns = new ScriptedProvider('sns', ['ok']);
    const router = new ProviderRouter([twilio, sns], breaker);
    await router.send(sms); // twilio's circuit opens (threshold 1)
    expect(router.allows('twilio')).toBe(false);
    expect(router.allows('sns')).toBe(true);
    expect(router.firstUp(['twilio', 'sns'])).toBe('sns');
  });
});
