import { REDACTED, redact } from './redact';

describe('redact', () => {
  it('hides secrets, tokens, passwords, codes and auth values at any depth', () => {
    expect(
      redact({
        name: 'Ankara',
        webhook_secret: 's3cr3t',
        settings: { authToken: 'AC123', nested: [{ password: 'p', reset_code: '123456', keep: 1 }] },
        api_key: 'k',
        Authorization: 'Bearer x',
      }),
    ).toEqual({
      name: 'Ankara',
      webhook_secret: REDACTED,
      settings: { authToken: REDACTED, nested: [{ password: REDACTED, reset_code: REDACTED, keep: 1 }] },
      api_key: REDACTED,
      Authorization: REDACTED,
    });
  });

  it('keeps ordinary fields and writes dates as ISO strings', () => {
    const at = new Date('2026-01-02T03:04:05Z');
    expect(redact({ template_id: '2fa_code', starts_at: at, n: 2, ok: true, none: null })).toEqual({
      template_id: '2fa_code',
      starts_at: '2026-01-02T03:04:05.000Z',
      n: 2,
      ok: true,
      none: null,
    });
  });

  it('answers null for undefined and cuts absurd nesting', () => {
    expect(redact(undefined)).toBeNull();
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(JSON.stringify(redact(deep))).toContain(REDACTED);
  });
});
