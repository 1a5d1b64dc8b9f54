import {
  Bucket,
  callBucketRange,
  field,
  maturedSendRange,
  readSignals,
  routingWindows,
} from './routing-counters';
import { noteRoute, routeNoteOf } from './route-note';

// Call window 60 s (10 s buckets), delivery window 10 min, slow after 5 min.
const w = routingWindows(60, 600, 300);
const NOW = 1_800_000_000_000; // a multiple of 10 s and of 60 s
const callIdx = (msAgo: number) => Math.floor((NOW - msAgo) / w.callBucketMs);
const sendIdx = (msAgo: number) => Math.floor((NOW - msAgo) / w.sendBucketMs);

function bucket(entries: [string, number][]): Bucket {
  return new Map(entries);
}

describe('routing counters: buckets', () => {
  it('reads ten call windows back and only fully matured send buckets', () => {
    const calls = callBucketRange(NOW, w);
    expect(calls[calls.length - 1]).toBe(callIdx(0));
    expect(calls[0]).toBe(callIdx(600_000));
    const sends = maturedSendRange(NOW, w);
    // Every send of the newest bucket is older than 5 minutes; the oldest starts 15 minutes back.
    expect((sends[sends.length - 1] + 1) * w.sendBucketMs).toBeLessThanOrEqual(NOW - 300_000);
    expect(sends[0] * w.sendBucketMs).toBe(NOW - 900_000);
  });
});

describe('routing counters: signals', () => {
  it('adds up the last call window per provider and country, and over every country', () => {
    const calls = new Map<number, Bucket>([
      [
        callIdx(0),
        bucket([
          [field('twilio', 'TR', 'n'), 20],
          [field('twilio', 'TR', 'e'), 6],
          [field('twilio', 'TR', 'l'), 2800],
          [field('twilio', 'TR', 'k'), 14],
        ]),
      ],
      [
        callIdx(30_000),
        bucket([
          [field('twilio', 'TR', 'n'), 10],
          [field('twilio', 'US', 'n'), 40],
          [field('twilio', 'US', 'e'), 1],
        ]),
      ],
    ]);
    const r = readSignals(NOW, ['twilio', 'sns'], calls, new Map(), new Map(), w, 20);
    const tr = r.byCountry.get('TR')?.get('twilio');
    expect(tr).toMatchObject({
      calls: 30,
      errors: 6,
      windowErrors: 6,
      allWindowErrors: 7,
      callSpanSeconds: 60,
      latencyMs: 200,
    });
    expect(tr?.widened).toBeUndefined();
    expect(r.byCountry.get('*')?.get('twilio')).toMatchObject({ calls: 70, errors: 7 });
    expect([...r.traffic.keys()]).toEqual(['US', 'TR']);
  });

  it("reaches further back while a destination's calls are fewer than the minimum", () => {
    const calls = new Map<number, Bucket>([
      [callIdx(0), bucket([[field('twilio', 'TR', 'n'), 5]])],
      [
        callIdx(200_000),
        bucket([
          [field('twilio', 'TR', 'n'), 10],
          [field('twilio', 'TR', 'e'), 10],
        ]),
      ],
      [
        callIdx(400_000),
        bucket([
          [field('twilio', 'TR', 'n'), 10],
          [field('twilio', 'TR', 'e'), 10],
        ]),
      ],
    ]);
    const tr = readSignals(NOW, ['twilio'], calls, new Map(), new Map(), w, 20)
      .byCountry.get('TR')
      ?.get('twilio');
    expect(tr).toMatchObject({ calls: 25, errors: 20, windowErrors: 0, callSpanSeconds: 400 });
  });

  it("takes the provider's figures over every destination for a thin one, and says so", () => {
    const calls = new Map<number, Bucket>([
      [
        callIdx(0),
        bucket([
          [field('twilio', 'US', 'n'), 100],
          [field('twilio', 'US', 'e'), 40],
          [field('twilio', 'DE', 'n'), 2],
        ]),
      ],
    ]);
    const de = readSignals(NOW, ['twilio'], calls, new Map(), new Map(), w, 20)
      .byCountry.get('DE')
      ?.get('twilio');
    expect(de).toMatchObject({ calls: 102, errors: 40, widened: { calls: true } });
  });

  it('judges delivery on matured sends only, with receipts counted in their send bucket', () => {
    const sends = new Map<number, Bucket>([
      // 8 minutes ago: matured.
      [
        sendIdx(480_000),
        bucket([
          [field('sns', 'TR', 's'), 40],
          [field('sns', 'TR', 'r'), 36],
          [field('sns', 'TR', 'f'), 30],
          [field('sns', 'TR', 'd'), 30],
          [field('sns', 'TR', 't'), 900],
          [field('sns', 'TR', 'q'), 20],
          [field('sns', 'TR', 'v'), 15],
          [field('sns', 'TR', 'w'), 300],
        ]),
      ],
      // 2 minutes ago: not yet.
      [sendIdx(120_000), bucket([[field('sns', 'TR', 's'), 500]])],
    ]);
    const receipting = new Map([['sns|TR', NOW - 60_000]]);
    const tr = readSignals(NOW, ['sns'], new Map(), sends, receipting, w, 20).byCountry.get('TR')?.get('sns');
    expect(tr).toMatchObject({
      matured: 40,
      receipted: 36,
      inTime: 30,
      delivered: 30,
      deliveredSeconds: 30,
      codes: 20,
      converted: 15,
      convertSeconds: 20,
      reportsReceipts: true,
    });
  });

  it('forgets that a provider sends receipts after a day without one', () => {
    const receipting = new Map([['sns|TR', NOW - 25 * 3600_000]]);
    const sends = new Map<number, Bucket>([[sendIdx(480_000), bucket([[field('sns', 'TR', 's'), 40]])]]);
    const tr = readSignals(NOW, ['sns'], new Map(), sends, receipting, w, 20).byCountry.get('TR')?.get('sns');
    expect(tr?.reportsReceipts).toBe(false);
  });
});

describe('route notes', () => {
  const plan = { first: 'sns' as const, note: 'routed to sns: twilio errors 31 % over 60 s' };

  it("rides on the first provider's entry of the attempt's tried list", () => {
    const tried = noteRoute([{ provider: 'sns', code: 'sns:Throttling' }, { provider: 'twilio' }], plan);
    expect(tried).toEqual([
      { provider: 'sns', code: 'sns:Throttling', route: plan.note },
      { provider: 'twilio' },
    ]);
    expect(routeNoteOf({ tried })).toBe(plan.note);
  });

  it('leaves lists without the planned provider, and other payloads, alone', () => {
    expect(noteRoute([{ provider: 'twilio', code: 'circuit_open' }], plan)).toEqual([
      { provider: 'twilio', code: 'circuit_open' },
    ]);
    expect(noteRoute([], plan)).toEqual([]);
    expect(routeNoteOf({ provider_status: 'delivered' })).toBeNull();
    expect(routeNoteOf(null)).toBeNull();
  });
});
