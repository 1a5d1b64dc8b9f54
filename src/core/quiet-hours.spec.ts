import { isQuietHours, quietUntil, recipientZone } from './quiet-hours';

describe('quiet hours', () => {
  const night = { start: '21:00', end: '08:00' };

  it('defers a time inside a window that wraps midnight to its end, in the zone', () => {
    // 20:30 UTC = 23:30 in Istanbul (UTC+3): quiet until 08:00 Istanbul = 05:00 UTC next day
    expect(quietUntil(new Date('2026-03-10T20:30:15Z'), 'Europe/Istanbul', night)?.toISOString()).toBe(
      '2026-03-11T05:00:00.000Z',
    );
    // 02:00 Istanbul, after midnight, same window
    expect(quietUntil(new Date('2026-03-10T23:00:00Z'), 'Europe/Istanbul', night)?.toISOString()).toBe(
      '2026-03-11T05:00:00.000Z',
    );
  });

  it('lets a time outside the window pass', () => {
    expect(quietUntil(new Date('2026-03-10T12:00:00Z'), 'Europe/Istanbul', night)).toBeNull();
    expect(quietUntil(new Date('2026-03-10T05:00:00Z'), 'Europe/Istanbul', night)).toBeNull(); // 08:00 sharp
    expect(quietUntil(new Date('2026-03-10T17:59:00Z'), 'Europe/Istanbul', night)).toBeNull(); // 20:59
  });

  it('handles a window inside one day', () => {
    const lunch = { start: '12:00', end: '13:30' };
    expect(quietUntil(new Date('2026-03-10T12:10:00Z'), 'UTC', lunch)?.toISOString()).toBe(
      '2026-03-10T13:30:00.000Z',
    );
    expect(quietUntil(new Date('2026-03-10T13:30:00Z'), 'UTC', lunch)).toBeNull();
  });

  it('chooses the zone: own, else the country, else the tenant, else UTC', () => {
    expect(recipientZone('America/Chicago', 'TR', 'Europe/Berlin')).toBe('America/Chicago');
    expect(recipientZone(null, 'TR', 'Europe/Berlin')).toBe('Europe/Istanbul');
    expect(recipientZone(null, 'US', 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(recipientZone(null, 'US', undefined)).toBe('UTC');
  });

  it('validates the setting', () => {
    expect(isQuietHours(night)).toBe(true);
    expect(isQuietHours({ start: '25:00', end: '08:00' })).toBe(false);
    expect(isQuietHours({ start: '08:00', end: '08:00' })).toBe(false);
    expect(isQuietHours('21-08')).toBe(false);
  });
});
