import { ALPHANUMERIC_FORBIDDEN, senderFor, senderKind, sendersProblem } from './sender-identity';

const SID = 'MG' + '0123456789abcdef'.repeat(2);

describe('sender identity settings', () => {
  it('accepts one sender of each kind per country, a default, and null', () => {
    expect(
      sendersProblem({
        TR: { alphanumeric: 'OKULUM' },
        GB: { alphanumeric: 'Okul 2' },
        DE: { alphanumeric: 'A' },
        US: { number: '+12025550100' },
        CA: { messaging_service_sid: SID },
        '*': { alphanumeric: 'OKULUMGLOBL' },
      }),
    ).toBeNull();
    expect(sendersProblem({})).toBeNull();
    expect(sendersProblem(null)).toBeNull();
  });

  it.each([
    ['12 characters', { TR: { alphanumeric: 'OKULUMOKULUM' } }, 'TR.alphanumeric', '1 to 11 characters'],
    ['no letter', { TR: { alphanumeric: '12345' } }, 'TR.alphanumeric', 'at least one letter'],
    ['a character outside A-Z a-z 0-9 space', { TR: { alphanumeric: 'OKUL-UM' } }, 'TR.alphanumeric', 'A-Z'],
    ['a Turkish letter', { TR: { alphanumeric: 'OKULÜM' } }, 'TR.alphanumeric', 'A-Z'],
    ['empty', { TR: { alphanumeric: '' } }, 'TR.alphanumeric', '1 to 11'],
    ['a leading space', { TR: { alphanumeric: ' OKULUM' } }, 'TR.alphanumeric', 'space'],
    ['alphanumeric for the US', { US: { alphanumeric: 'OKULUM' } }, 'US.alphanumeric', 'US does not allow'],
    ['alphanumeric for Canada', { CA: { alphanumeric: 'OKULUM' } }, 'CA.alphanumeric', 'CA does not allow'],
    ['alphanumeric for China', { CN: { alphanumeric: 'OKULUM' } }, 'CN.alphanumeric', 'CN does not allow'],
    ['a number without +', { TR: { number: '905321234567' } }, 'TR.number', 'E.164'],
    ['a number with spaces', { TR: { number: '+90 532 123 45 67' } }, 'TR.number', 'E.164'],
    ['a number that cannot exist', { TR: { number: '+900000' } }, 'TR.number', 'E.164'],
    ['a short SID', { TR: { messaging_service_sid: 'MG123' } }, 'TR.messaging_service_sid', 'MG and 32'],
    [
      'a SID in upper-case hex',
      { TR: { messaging_service_sid: SID.toUpperCase() } },
      'TR.messaging_service_sid',
      'lower-case',
    ],
    [
      'an account SID',
      { TR: { messaging_service_sid: 'AC' + SID.slice(2) } },
      'TR.messaging_service_sid',
      'MG',
    ],
    ['a lower-case country', { tr: { alphanumeric: 'OKULUM' } }, 'tr', 'not a country key'],
    ['an unknown country', { XX: { alphanumeric: 'OKULUM' } }, 'XX', 'not a country key'],
    ['a country name', { Turkey: { alphanumeric: 'OKULUM' } }, 'Turkey', 'ISO 3166'],
    ['two kinds at once', { TR: { alphanumeric: 'OKULUM', number: '+905321234567' } }, 'TR', 'exactly one'],
    ['an unknown kind', { TR: { short_code: '12345' } }, 'TR', 'exactly one'],
    ['an empty entry', { TR: {} }, 'TR', 'exactly one'],
    ['a bare string', { TR: 'OKULUM' }, 'TR', 'exactly one'],
    ['a value that is not a string', { TR: { alphanumeric: 7 } }, 'TR.alphanumeric', 'string'],
  ])('refuses %s, naming where', (_what, value, path, words) => {
    const problem = sendersProblem(value);
    expect(problem?.path).toBe(path);
    expect(problem?.message).toContain(words);
  });

  it('refuses anything but an object', () => {
    for (const v of ['OKULUM', 7, [{ alphanumeric: 'OKULUM' }], true])
      expect(sendersProblem(v)?.message).toContain('must be an object');
  });

  it('allows an alphanumeric default ("*") even though some countries forbid it', () => {
    expect(sendersProblem({ '*': { alphanumeric: 'OKULUM' } })).toBeNull();
  });

  it('forbids alphanumeric senders in at least the US and Canada', () => {
    expect(ALPHANUMERIC_FORBIDDEN.has('US')).toBe(true);
    expect(ALPHANUMERIC_FORBIDDEN.has('CA')).toBe(true);
    expect(ALPHANUMERIC_FORBIDDEN.has('TR')).toBe(false);
  });
});

describe('which sender a message gets', () => {
  const senders = {
    TR: { alphanumeric: 'OKULUM' },
    US: { number: '+12025550100' },
    '*': { messaging_service_sid: SID },
  };

  it("takes the destination country's own sender", () => {
    expect(senderFor(senders, 'TR')).toBe('OKULUM');
    expect(senderFor(senders, 'US')).toBe('+12025550100');
  });

  it('takes the default for other countries and for non-geographic numbers', () => {
    expect(senderFor(senders, 'DE')).toBe(SID);
    expect(senderFor(senders, null)).toBe(SID);
  });

  it("never gives an alphanumeric default to a country that forbids it: the provider's default instead", () => {
    const alphaDefault = { '*': { alphanumeric: 'OKULUM' } };
    expect(senderFor(alphaDefault, 'DE')).toBe('OKULUM');
    expect(senderFor(alphaDefault, 'US')).toBeNull();
    expect(senderFor(alphaDefault, 'CA')).toBeNull();
  });

  it('is null without senders, or without one for the country and no default', () => {
    expect(senderFor(undefined, 'TR')).toBeNull();
    expect(senderFor(null, 'TR')).toBeNull();
    expect(senderFor({ TR: { alphanumeric: 'OKULUM' } }, 'DE')).toBeNull();
  });

  it('ignores a stored entry it cannot use', () => {
    const odd = { TR: { alphanumeric: 'X'.repeat(65) }, DE: {} } as never;
    expect(senderFor(odd, 'TR')).toBeNull();
    expect(senderFor(odd, 'DE')).toBeNull();
  });
});

describe('the kind of a stored sender', () => {
  it.each([
    ['+905321234567', 'number'],
    [SID, 'messaging_service'],
    ['OKULUM', 'alphanumeric'],
    ['MG Okul', 'alphanumeric'],
  ])('%s is a %s', (sender, kind) => {
    expect(senderKind(sender)).toBe(kind);
  });
});
