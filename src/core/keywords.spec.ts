import { matchKeyword, normalizeKeyword, tenantKeywordsProblem } from './keywords';

describe('inbound keywords', () => {
  it.each([
    // English, any case and padding
    ['STOP', 'stop', 'en'],
    [' stop ', 'stop', 'en'],
    ['Stop', 'stop', 'en'],
    ['stopall', 'stop', 'en'],
    ['UnSubscribe', 'stop', 'en'],
    ['cancel', 'stop', 'en'],
    ['end', 'stop', 'en'],
    ['quit', 'stop', 'en'],
    ['optout', 'stop', 'en'],
    ['start', 'start', 'en'],
    ['unstop', 'start', 'en'],
    ['yes', 'start', 'en'],
    ['help', 'help', 'en'],
    ['Info', 'help', 'en'],
    // Turkish, with and without its letters, in both cases
    ['iptal', 'stop', 'tr'],
    ['İPTAL', 'stop', 'tr'],
    ['Iptal', 'stop', 'tr'],
    ['ıptal', 'stop', 'tr'],
    ['IPTAL', 'stop', 'tr'],
    ['İptal', 'stop', 'tr'],
    ['ret', 'stop', 'tr'],
    ['Dur', 'stop', 'tr'],
    ['başla', 'start', 'tr'],
    ['BAŞLA', 'start', 'tr'],
    ['BASLA', 'start', 'tr'],
    ['Basla', 'start', 'tr'],
    ['yardım', 'help', 'tr'],
    ['YARDIM', 'help', 'tr'],
    ['bilgi', 'help', 'tr'],
    ['BİLGİ', 'help', 'tr'],
    ['Bılgı', 'help', 'tr'],
  ])('reads %j as %s (%s)', (body, action, language) => {
    expect(matchKeyword(body)).toMatchObject({ action, language, origin: 'builtin' });
  });

  it.each(['', '   ', 'stop please', 'please stop', 'STOPP', 'st op', 'x'.repeat(300)])(
    'takes %j as no keyword (the whole body must be one)',
    (body) => {
      expect(matchKeyword(body)).toBeNull();
    },
  );

  it('folds accents and the dotless i', () => {
    expect(normalizeKeyword(' çığ  şöğüİ ')).toBe('CIG SOGUI');
  });

  it("matches a tenant's own keywords, replied to in the tenant's language", () => {
    const own = { stop: ['durdur'], start: ['devam'], help: ['destek'] };
    expect(matchKeyword('DURDUR', own, 'tr')).toMatchObject({
      action: 'stop',
      language: 'tr',
      origin: 'tenant',
    });
    expect(matchKeyword('Devam', own, 'tr')).toMatchObject({ action: 'start', origin: 'tenant' });
    expect(matchKeyword('destek', own)).toMatchObject({ action: 'help', language: 'en' });
    expect(matchKeyword('durdur')).toBeNull();
  });

  it('refuses a tenant keyword that clashes or is not a word', () => {
    expect(tenantKeywordsProblem({ stop: ['durdur'], help: ['destek'] })).toBeNull();
    expect(tenantKeywordsProblem({ start: ['stop'] })).toContain('built-in stop');
    expect(tenantKeywordsProblem({ stop: ['a'], help: ['A'] })).toContain('both');
    expect(tenantKeywordsProblem({ stop: ['<b>'] })).toContain('letters');
    expect(tenantKeywordsProblem({ pause: ['x'] })).toContain('pause');
    expect(tenantKeywordsProblem(['x'])).toContain('object');
  });
});
