import { formatAppointment, isTimeZone } from './appointment-format';

describe('formatAppointment', () => {
  const startsAt = new Date('2026-12-15T11:00:00Z');

  it("writes the date and time in the appointment's zone, in Turkish", () => {
    expect(formatAppointment({ startsAt, timezone: 'Europe/Istanbul' }, 'tr')).toEqual({
      date: '15 Aralık 2026',
      time: '14:00',
    });
  });

  it('writes the date and time in English', () => {
    const out = formatAppointment({ startsAt, timezone: 'America/New_York' }, 'en');
    expect(out.date).toBe('December 15, 2026');
    expect(out.time.replace(/\s/g, ' ')).toBe('6:00 AM');
  });

  it('moves the date when the zone is on the other side of midnight', () => {
    const late = new Date('2026-12-15T23:30:00Z');
    expect(formatAppointment({ startsAt: late, timezone: 'Europe/Istanbul' }, 'en').date).toBe(
      'December 16, 2026',
    );
  });

  it('knows IANA zones and refuses others', () => {
    expect(isTimeZone('Europe/Istanbul')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
