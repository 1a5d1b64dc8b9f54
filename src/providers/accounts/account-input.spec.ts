import { parseAccountInput } from './account-input';
import { publicView } from './provider-accounts.store';

const SID = 'AC' + 'a1'.repeat(16);
const TOKEN = '0123456789abcdef0123456789abcdef';

describe('parseAccountInput', () => {
  it('takes a Twilio account with a number or a Messaging Service', () => {
    expect(
      parseAccountInput('twilio', { account_sid: SID, auth_token: TOKEN, phone_number: '+15005550006' }),
    ).toEqual({
      credentials: { account_sid: SID, auth_token: TOKEN, phone_number: '+15005550006' },
    });
    const mg = 'MG' + '0'.repeat(32);
    expect(
      parseAccountInput('twilio', { account_sid: SID, auth_token: TOKEN, messaging_service_sid: mg }),
    ).toEqual({
      credentials: { account_sid: SID, auth_token: TOKEN, messaging_service_sid: mg },
    });
  });

  it('takes an SNS account, the origination identity optional', () => {
    const body = {
      access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      secret_access_key: 'wJalrXUtnFEMI/K7MDENG',
      region: 'eu-west-1',
    };
    expect(parseAccountInput('sns', body)).toEqual({ credentials: body });
    expect(parseAccountInput('sns', { ...body, origination_identity: 'OKULUM' })).toEqual({
      credentials: { ...body, origination_identity: 'OKULUM' },
    });
  });

  it.each<[string, 'twilio' | 'sns', Record<string, unknown>, string[]]>([
    ['nothing', 'twilio', {}, ['account_sid', 'auth_token', 'phone_number']],
    [
      'a bad SID',
      'twilio',
      { account_sid: 'AC12', auth_token: TOKEN, phone_number: '+15005550006' },
      ['account_sid'],
    ],
    ['no sender', 'twilio', { account_sid: SID, auth_token: TOKEN }, ['phone_number']],
    [
      'an SNS field on Twilio',
      'twilio',
      { account_sid: SID, auth_token: TOKEN, phone_number: '+15005550006', region: 'x' },
      ['region'],
    ],
    [
      'a token that is not a string',
      'twilio',
      { account_sid: SID, auth_token: 42, phone_number: '+15005550006' },
      ['auth_token'],
    ],
    [
      'a bad region',
      'sns',
      { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'secret-key', region: 'moon' },
      ['region'],
    ],
    [
      'a bad sender ID',
      'sns',
      {
        access_key_id: 'AKIAIOSFODNN7EXAMPLE',
        secret_access_key: 'secret-key',
        region: 'eu-west-1',
        origination_identity: 'A B',
      },
      ['origination_identity'],
    ],
  ])('refuses %s, naming the fields', (_what, provider, body, fields) => {
    const out = parseAccountInput(provider, body);
    expect('problems' in out && out.problems.map((p) => p.field).sort()).toEqual([...fields].sort());
  });
});

describe('publicView', () => {
  it('shows only the last 4 characters of each credential, and the sender fields', () => {
    const v = publicView('twilio', { account_sid: SID, auth_token: TOKEN, phone_number: '+15005550006' });
    expect(v).toEqual({
      account_sid_last4: 'a1a1',
      auth_token_last4: 'cdef',
      phone_number: '+15005550006',
      messaging_service_sid: null,
    });
    expect(JSON.stringify(v)).not.toContain(TOKEN.slice(0, 8));
  });
});
