import { bestHour, chooseSendTime, localHour, nextLocalHour, ResponseSample } from './send-time';

const IST = 'Europe/Istanbul'; // UTC+3, no DST
const at = (iso: string) => new Date(iso);
const sample = (sent: string, minutes: number, zone = IST): ResponseSample => ({
  sentAt: at(sent),
  respondedAt: new Date(at(sent).getTime() + minutes * 60_000),
  zone,
});

describe('delivery-time optimisation: the best hour', () => {
  it('is the local send hour answered soonest (median delay)', () => {
    const history = [
      sample('2026-03-01T06:10:00Z', 240), // 09:xx Istanbul: slow
      sample('2026-03-02T06:30:00Z', 300),
      sample('2026-03-03T15:05:00Z', 4), // 18:xx Istanbul: fast
      sample('2026-03-04T15:20:00Z', 10),
      sample('2026-03-05T15:40:00Z', 600), // one slow answer does not move the median
    ];
    expect(bestHour(history)).toBe(18);
  });

  it('is null without history', () => {
    expect(bestHour([])).toBeNull();
  });

  it('counts hours in each sample’s own zone', () => {
    expect(localHour(at('2026-03-01T06:00:00Z'), 'Asia/Tokyo')).toBe(15);
    expect(bestHour([sample('2026-03-01T06:00:00Z', 5, 'Asia/Tokyo')])).toBe(15);
  });

  it('breaks ties by more samples, then by the earlier hour', () => {
    expect(
      bestHour([
        sample('2026-03-01T10:00:00Z', 5),
        sample('2026-03-01T07:00:00Z', 5),
        sample('2026-03-02T07:00:00Z', 5),
      ]),
    ).toBe(10);
    expect(bestHour([sample('2026-03-01T10:00:00Z', 5), sample('2026-03-01T07:00:00Z', 5)])).toBe(10);
  });
});

describe('delivery-time optimisation: the send time', () => {
  const window = { start: at('2026-03-10T07:17:30Z'), end: at('2026-03-11T07:17:30Z') }; // 10:17 Istanbul

  it('finds the next local hour inside the window', () => {
    expect(nextLocalHour(window.start, window.end, IST, 18)?.toISOString()).toBe('2026-03-10T15:00:00.000Z');
    expect(nextLocalHour(window.start, window.end, IST, 9)?.toISOString()).toBe('2026-03-11T06:00:00.000Z');
    expect(nextLocalHour(window.start, at('2026-03-10T12:00:00Z'), IST, 18)).toBeNull();
  });

  it("sends at the recipient's best hour, else the tenant's, else the window's start", () => {
    expect(chooseSendTime({ window, zone: IST, recipientHour: 18, tenantHour: 12 })).toEqual({
      at: at('2026-03-10T15:00:00Z'),
      basis: 'recipient',
      hour: 18,
    });
    expect(chooseSendTime({ window, zone: IST, recipientHour: null, tenantHour: 12 })).toEqual({
      at: at('2026-03-10T09:00:00Z'),
      basis: 'tenant',
      hour: 12,
    });
    expect(chooseSendTime({ window, zone: IST, recipientHour: null, tenantHour: null })).toEqual({
      at: window.start,
      basis: 'window_start',
      hour: null,
    });
  });

  it('falls through when a short window does not hold the hour', () => {
    const short = { start: window.start, end: at('2026-03-10T10:00:00Z') }; // until 13:00 Istanbul
    expect(chooseSendTime({ window: short, zone: IST, recipientHour: 18, tenantHour: 12 }).basis).toBe(
      'tenant',
    );
    expect(chooseSendTime({ window: short, zone: IST, recipientHour: 18, tenantHour: 20 }).basis).toBe(
      'window_start',
    );
  });
});
