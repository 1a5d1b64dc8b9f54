import { twilioValidityPeriod } from './twilio.provider';

describe("Twilio's ValidityPeriod", () => {
  it('is the seconds left, within 1 to 36,000', () => {
    expect(twilioValidityPeriod(60)).toBe(60);
    expect(twilioValidityPeriod(1)).toBe(1);
    expect(twilioValidityPeriod(0)).toBe(1);
    expect(twilioValidityPeriod(59.2)).toBe(60);
    // Longer than Twilio allows: its own 10-hour limit applies.
    expect(twilioValidityPeriod(72 * 3600)).toBe(36_000);
  });

  it('is left out without a validity', () => {
    expect(twilioValidityPeriod(undefined)).toBeUndefined();
  });
});
