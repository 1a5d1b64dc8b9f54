import { loadConfig } from '../config/app-config';
import { PhoneService } from './phone.service';

describe('PhoneService.forSendAll', () => {
  const phone = new PhoneService(loadConfig({}));

  afterEach(() => jest.restoreAllMocks());

  it('answers for every number, in order, what forSend answers', async () => {
    const mixed = ['+12025550123', '+1234567890', '202-555-0199', 'call me', '+12025550123'];
    expect(await phone.forSendAll(mixed)).toEqual(mixed.map((n) => phone.forSend(n)));
  });

  it('lets other work run between slices of a long list (a code waiting behind a bulk)', async () => {
    const numbers = Array.from({ length: 3_000 }, (_, i) => `+1202555${String(i % 10_000).padStart(4, '0')}`);
    const check = jest.spyOn(phone, 'forSend');
    let checkedWhenOtherRan = -1;
    setImmediate(() => (checkedWhenOtherRan = check.mock.calls.length));
    await phone.forSendAll(numbers);
    expect(check).toHaveBeenCalledTimes(numbers.length);
    // Checked all in one go (~60 ms), the other work would have run only after the last number.
    expect(checkedWhenOtherRan).toBeGreaterThan(0);
    expect(checkedWhenOtherRan).toBeLessThan(numbers.length);
  });
});
