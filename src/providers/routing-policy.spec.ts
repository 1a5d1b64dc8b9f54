import { ProviderName } from '../core/message-types';
import {
  assessProvider,
  chooseFirst,
  noSignals,
  pinFor,
  ProviderSignals,
  routeCountry,
  RoutingPolicy,
} from './routing-policy';

const policy: RoutingPolicy = {
  minSamples: 20,
  errorRate: 0.2,
  errorCount: 50,
  latencyMs: 3000,
  slowDeliverySeconds: 300,
  slowDeliveryShare: 0.15,
  conversionGap: 0.3,
  probeShare: 0.05,
  callWindowSeconds: 60,
  deliveryWindowSeconds: 600,
};

const ORDER: ProviderName[] = ['twilio', 'sns'];

function sig(provider: ProviderName, s: Partial<ProviderSignals> = {}): ProviderSignals {
  return { ...noSignals(provider), callSpanSeconds: 60, ...s };
}

/** Calls of which `errors` failed, answered in `latencyMs` on average. */
function calls(n: number, errors: number, latencyMs = 200): Partial<ProviderSignals> {
  return { calls: n, errors, windowErrors: errors, allWindowErrors: errors, latencyMs };
}

function route(twilio: Partial<ProviderSignals>, sns: Partial<ProviderSignals> = {}) {
  return routeCountry(
    ORDER,
    new Map([
      ['twilio', sig('twilio', twilio)],
      ['sns', sig('sns', sns)],
    ]),
    policy,
  );
}

const share = (r: ReturnType<typeof route>, p: ProviderName) => r.shares.find((s) => s.provider === p)?.share;

describe('routing policy: shares of first attempts', () => {
  it('keeps every first attempt on the configured first provider while both are healthy', () => {
    const r = route(calls(500, 2), calls(40, 0));
    expect(r.shift).toBeNull();
    expect(share(r, 'twilio')).toBe(1);
    expect(share(r, 'sns')).toBe(0);
    expect(r.providers.map((p) => p.score)).toEqual([1, 1]);
  });

  it('moves all but the probe share away from a provider failing 30 % of its calls', () => {
    const r = route(calls(100, 30));
    expect(share(r, 'twilio')).toBeCloseTo(0.05);
    expect(share(r, 'sns')).toBeCloseTo(0.95);
    expect(r.shift).toEqual({ from: 'twilio', to: 'sns', reason: 'errors 30 % over 60 s' });
  });

  it('moves part of the traffic while the error rate is between half the threshold and the threshold', () => {
    const r = route(calls(100, 15)); // 15 %: half-way between 10 % and 20 %
    expect(share(r, 'twilio')).toBeCloseTo(1 - 0.5 * 0.95);
  });

  it('judges nothing on fewer calls than the minimum', () => {
    expect(route(calls(19, 10)).shift).toBeNull();
  });

  it("applies GOV.UK Notify's floor: 50 errors in the call window degrade fully whatever the rate", () => {
    const r = route({ ...calls(5000, 50), windowErrors: 50, allWindowErrors: 50 });
    expect(share(r, 'twilio')).toBeCloseTo(0.05);
    expect(r.shift?.reason).toBe('50 errors in 60 s');
  });

  it("counts Notify's errors over all destinations when this one has few", () => {
    const r = route({ ...calls(30, 0), windowErrors: 0, allWindowErrors: 64 });
    expect(r.shift?.reason).toBe('64 errors in 60 s over all destinations');
  });

  it('moves away from a provider whose calls are slow', () => {
    const r = route(calls(40, 0, 4200));
    expect(share(r, 'twilio')).toBeCloseTo(0.05);
    expect(r.shift?.reason).toBe('latency 4.2 s over 60 s');
  });

  it("applies GOV.UK Notify's slow-delivery floor: 15 % of matured sends late degrade fully", () => {
    const r = route({ ...calls(100, 0), reportsReceipts: true, matured: 100, receipted: 95, inTime: 85 });
    expect(share(r, 'twilio')).toBeCloseTo(0.05);
    expect(r.shift?.reason).toBe('slow-delivery 15 % over 10 min');
  });

  it('does not judge delivery for a provider that sends no receipts for the destination', () => {
    const r = route({ ...calls(100, 0), reportsReceipts: false, matured: 100, receipted: 0, inTime: 0 });
    expect(r.shift).toBeNull();
  });

  it('counts a provider that stopped sending receipts (it did lately) as slow', () => {
    const r = route({ ...calls(100, 0), reportsReceipts: true, matured: 100, receipted: 0, inTime: 0 });
    expect(r.shift?.reason).toBe('slow-delivery 100 % over 10 min');
  });

  it('moves away from a provider whose codes convert well below the other provider', () => {
    const r = route(
      { ...calls(200, 0), codes: 100, converted: 50 },
      { ...calls(200, 0), codes: 100, converted: 90 },
    );
    expect(r.shift?.reason).toBe("code conversion 50 % against sns's 90 % over 10 min");
    expect(share(r, 'twilio')).toBeCloseTo(0.05);
  });

  it('does not compare conversion when only one provider has enough codes', () => {
    expect(
      route({ ...calls(200, 0), codes: 100, converted: 10 }, { codes: 5, converted: 5 }).shift,
    ).toBeNull();
  });

  it('keeps the default order when the other provider is just as degraded', () => {
    const r = route(calls(100, 40), calls(100, 40));
    expect(r.shift).toBeNull();
    expect(share(r, 'twilio')).toBe(1);
  });

  it('moves only the difference when the other provider is degraded too', () => {
    const r = route(calls(100, 30), calls(100, 15)); // 1 against 0.5
    expect(share(r, 'sns')).toBeCloseTo(0.5 * 0.95);
  });

  it('drifts back as the error rate falls', () => {
    const shares = [30, 18, 14, 11, 2].map((errors) => share(route(calls(100, errors)), 'twilio') as number);
    for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThan(shares[i - 1]);
    expect(shares[shares.length - 1]).toBe(1);
  });

  it('keeps a single provider first whatever its signals', () => {
    const r = routeCountry(['sandbox'], new Map([['sandbox', sig('sandbox', calls(100, 90))]]), policy);
    expect(r.shares).toEqual([{ provider: 'sandbox', share: 1 }]);
    expect(r.providers[0].score).toBe(0);
  });

  it('says the signals widened to every destination', () => {
    const a = assessProvider(sig('twilio', { ...calls(100, 30), widened: { calls: true } }), policy);
    expect(a.reason).toBe('errors 30 % over 60 s over all destinations');
  });
});

describe('routing policy: the first provider of a message', () => {
  it('takes the default order with its note when nothing is degraded', () => {
    expect(chooseFirst(ORDER, route(calls(100, 0)), 0.99)).toEqual({
      first: 'twilio',
      order: ['twilio', 'sns'],
      note: 'routed to twilio: default order',
      kind: 'default',
    });
    expect(chooseFirst(ORDER, null, 0.5).note).toBe('routed to twilio: default order');
  });

  it('draws with the shares and says why, keeping the fallback order', () => {
    const r = route(calls(100, 30));
    expect(chooseFirst(ORDER, r, 0.5)).toEqual({
      first: 'sns',
      order: ['sns', 'twilio'],
      note: 'routed to sns: twilio errors 30 % over 60 s',
      kind: 'moved',
    });
    expect(chooseFirst(ORDER, r, 0.01)).toEqual({
      first: 'twilio',
      order: ['twilio', 'sns'],
      note: 'routed to twilio: keeps 5 % of first attempts while twilio errors 30 % over 60 s (the rest go to sns)',
      kind: 'kept',
    });
  });

  it('gives the degraded provider its share of draws', () => {
    const r = route(calls(100, 15));
    const n = 1000;
    let twilio = 0;
    for (let i = 0; i < n; i++) if (chooseFirst(ORDER, r, (i + 0.5) / n).first === 'twilio') twilio++;
    expect(twilio / n).toBeCloseTo(share(r, 'twilio') as number, 2);
  });
});

describe('routing policy: pins', () => {
  it('takes the message type pin over the tenant pin', () => {
    const routing = { pin: 'sns' as const, pin_by_type: { password_reset: 'twilio' as const } };
    expect(pinFor(routing, 'password_reset')).toEqual({ provider: 'twilio', by: 'type' });
    expect(pinFor(routing, 'general_notification')).toEqual({ provider: 'sns', by: 'tenant' });
    expect(pinFor(null, 'password_reset')).toBeNull();
    expect(pinFor({ pin: null }, 'password_reset')).toBeNull();
  });

  it('reads no pin from a type named like an object property', () => {
    expect(pinFor({ pin_by_type: {} }, 'constructor')).toBeNull();
    expect(pinFor({ pin: 'sns', pin_by_type: {} }, 'constructor')).toEqual({ provider: 'sns', by: 'tenant' });
  });
});
