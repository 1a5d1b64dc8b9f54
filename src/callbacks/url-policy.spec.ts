import { retryDelayMs } from './dispatcher.service';
import { isBlockedAddress, urlProblem } from './url-policy';

describe('callback URL policy', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
  ])('blocks %s', (ip) => expect(isBlockedAddress(ip)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])('allows %s', (ip) =>
    expect(isBlockedAddress(ip)).toBe(false),
  );

  it('wants https, no credentials, no local names, unless insecure is allowed', () => {
    expect(urlProblem('https://hooks.example.com/sms', false)).toBeNull();
    expect(urlProblem('http://hooks.example.com/sms', false)).toMatch(/https/);
    expect(urlProblem('https://a:b@hooks.example.com/', false)).toMatch(/credentials/);
    expect(urlProblem('https://localhost:8443/', false)).toMatch(/local/);
    expect(urlProblem('https://[::1]/', false)).toMatch(/private/);
    expect(urlProblem('https://0x7f.1/', false)).toMatch(/private/); // WHATWG URL normalises to 127.0.0.1
    expect(urlProblem('http://127.0.0.1:9/', true)).toBeNull();
    expect(urlProblem('ftp://x/', true)).toMatch(/https/);
    expect(urlProblem(`https://example.com/${'a'.repeat(2000)}`, false)).toMatch(/2000/);
  });

  it('backs off exponentially with jitter, capped at an hour', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, mid))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(40, 1000, mid)).toBe(3600_000);
    expect(retryDelayMs(1, 1000, () => 0)).toBe(800);
    expect(retryDelayMs(1, 1000, () => 1)).toBe(1200);
  });
});
