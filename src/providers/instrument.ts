import { ProviderCall } from './provider-stats';
import { ProviderError, SmsProvider } from './sms-provider';

/**
 * The instrumenting decorator: the same provider, whose `send` reports its wall time and outcome
 * (ok, or the classified failure kind and code) to `onCall`. Everything else (webhook parsing,
 * lookups) passes through untouched. A listener that throws never changes the send's result.
 */
export function instrument(
  provider: SmsProvider,
  onCall: (c: ProviderCall) => void,
  now: () => number = () => performance.now(),
): SmsProvider {
  const report = (c: ProviderCall) => {
    try {
      onCall(c);
    } catch {
      // metrics must never break a send
    }
  };
  return new Proxy(provider, {
    get(target, prop, receiver) {
      if (prop !== 'send') {
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      const send: SmsProvider['send'] = async (sms) => {
        const started = now();
        try {
          const result = await target.send(sms);
          report({ provider: target.name, ms: now() - started, outcome: 'ok' });
          return result;
        } catch (e) {
          const err = e instanceof ProviderError ? e : target.classifyError(e);
          report({ provider: target.name, ms: now() - started, outcome: err.kind, code: err.code });
          throw e;
        }
      };
      return send;
    },
  });
}
