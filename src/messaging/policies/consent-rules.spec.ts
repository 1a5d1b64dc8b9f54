import { ConsentChange, consentRequired, iysCsv, iysDate, parseConsent, toIysRow } from './consent-rules';

describe('consentRequired: who needs granted consent for a promotional text', () => {
  it.each([
    [undefined, 'TR', true],
    [null, 'TR', true],
    [undefined, 'US', false],
    [undefined, null, false],
    ['required', 'US', true],
    ['required', null, true],
    ['not_required', 'TR', false],
  ] as const)('setting %s, country %s → %s', (setting, country, expected) => {
    expect(consentRequired(setting, country)).toBe(expected);
  });
});

describe('parseConsent: the consent of a directory entry', () => {
  const now = new Date('2026-12-06T10:00:00Z');

  it('reads status, source and at; defaults source to api and at to now', () => {
    expect(parseConsent({ sms: { status: 'granted' } }, 'consent', now)).toEqual({
      ok: true,
      value: { sms: { status: 'granted', source: 'api', at: now } },
    });
    expect(
      parseConsent(
        { sms: { status: 'revoked', source: 'HS_WEB', at: '2026-12-01T09:30:00+03:00' } },
        'c',
        now,
      ),
    ).toEqual({
      ok: true,
      value: { sms: { status: 'revoked', source: 'HS_WEB', at: new Date('2026-12-01T06:30:00Z') } },
    });
  });

  it.each([
    [{ sms: { status: 'yes' } }, 'r[0].consent.sms.status'],
    [{ sms: {} }, 'r[0].consent.sms.status'],
    [{ email: { status: 'granted' } }, 'r[0].consent.email'],
    [{ sms: 'granted' }, 'r[0].consent.sms'],
    [{ sms: { status: 'granted', source: 'has space' } }, 'r[0].consent.sms.source'],
    [{ sms: { status: 'granted', source: 'sms_keyword' } }, 'r[0].consent.sms.source'],
    [{ sms: { status: 'granted', at: '2026-12-01' } }, 'r[0].consent.sms.at'],
    [{ sms: { status: 'granted', at: '2026-12-01T10:00:00' } }, 'r[0].consent.sms.at'],
    [{ sms: { status: 'granted', at: '2026-12-07T10:00:00Z' } }, 'r[0].consent.sms.at'],
    [{ sms: { status: 'granted', extra: 1 } }, 'r[0].consent.sms.extra'],
    ['granted', 'r[0].consent'],
  ])('refuses %j naming %s', (raw, field) => {
    expect(parseConsent(raw, 'r[0].consent', now)).toMatchObject({ ok: false, field });
  });
});

describe('the İYS export', () => {
  const change = (c: Partial<ConsentChange>): ConsentChange => ({
    phoneNumber: '+905321234567',
    channel: 'sms',
    status: 'granted',
    source: 'HS_WEB',
    at: new Date('2026-12-01T06:30:00Z'),
    grantedBefore: false,
    ...c,
  });

  it('writes a grant as ONAY of type MESAJ, dated in Turkish time', () => {
    expect(toIysRow(change({}))).toEqual({
      recipient: '+905321234567',
      type: 'MESAJ',
      source: 'HS_WEB',
      status: 'ONAY',
      consentDate: '2026-12-01 09:30:00',
      recipientType: 'BIREYSEL',
      retailerCode: '',
    });
    expect(iysDate(new Date('2026-12-31T22:15:07.900Z'))).toBe('2027-01-01 01:15:07');
  });

  it('writes a STOP as RET from HS_MESAJ when a grant came before it', () => {
    expect(toIysRow(change({ status: 'revoked', source: 'sms_keyword', grantedBefore: true }))).toMatchObject(
      {
        status: 'RET',
        source: 'HS_MESAJ',
      },
    );
  });

  it('leaves out what İYS would refuse or has no row for', () => {
    expect(toIysRow(change({ status: 'revoked', grantedBefore: false }))).toBeNull();
    expect(toIysRow(change({ status: 'unknown', grantedBefore: true }))).toBeNull();
    expect(toIysRow(change({ phoneNumber: '+12025550123' }))).toBeNull();
  });

  it('keeps İYS source codes and empties sources İYS does not know', () => {
    expect(toIysRow(change({ source: 'HS_FIZIKSEL_ORTAM' }))?.source).toBe('HS_FIZIKSEL_ORTAM');
    expect(toIysRow(change({ source: 'api' }))?.source).toBe('');
    expect(toIysRow(change({ source: 'hs_web' }))?.source).toBe('');
  });

  it('is a header and one CRLF line per row', () => {
    expect(iysCsv([change({}), change({ phoneNumber: '+12025550123' })])).toBe(
      'recipient,type,source,status,consentDate,recipientType,retailerCode\r\n' +
        '+905321234567,MESAJ,HS_WEB,ONAY,2026-12-01 09:30:00,BIREYSEL,\r\n',
    );
  });
});
