import { REDACTED_BODY_SQL_PATTERN, redactedBody } from './body-retention';

describe('redactedBody', () => {
  it('says after how long, and is what the SQL pattern recognises', () => {
    expect(redactedBody(1)).toBe('[redacted after 1 day]');
    expect(redactedBody(30)).toBe('[redacted after 30 days]');
    const re = new RegExp(REDACTED_BODY_SQL_PATTERN);
    for (const d of [1, 7, 30, 3650]) expect(re.test(redactedBody(d))).toBe(true);
    expect(re.test('Your code is 123456 [redacted after 3 days]')).toBe(false);
    expect(re.test('Hello')).toBe(false);
  });
});
