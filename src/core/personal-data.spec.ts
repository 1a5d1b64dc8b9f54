import { redactNumber } from './personal-data';

describe('redactNumber', () => {
  it('redacts the number and the texts of an object that named it', () => {
    const payload = {
      id: 'e1',
      type: 'message.inbound',
      data: { from: '+905321234567', to: '+15005550006', body: 'my secret', keyword: null },
      note: 'sent to +905321234567 twice',
    };
    expect(redactNumber(payload, '+905321234567')).toEqual({
      id: 'e1',
      type: 'message.inbound',
      data: { from: 'erased', to: '+15005550006', body: '[erased]', keyword: null },
      note: 'sent to erased twice',
    });
  });

  it('leaves a value without the number as it is', () => {
    const payload = { data: { from: '+905321234568', body: 'hello' } };
    expect(redactNumber(payload, '+905321234567')).toBe(payload);
    expect(
      redactNumber([{ body: 'x' }, { phone_number: '+905321234567', body: 'y' }], '+905321234567'),
    ).toEqual([{ body: 'x' }, { phone_number: 'erased', body: '[erased]' }]);
  });
});
