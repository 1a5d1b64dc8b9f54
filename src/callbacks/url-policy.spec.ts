import { retryDelayMs } from './dispatcher.service';
import {
  embeddedIPv4,
  HostAddress,
  HostResolver,
  isBlockedAddress,
  resolveTarget,
  TargetRefusedError,
  urlProblem,
} from './url-policy';

/** A resolver over a fixed table; a name missing from it does not exist, `hang` never answers. */
class TableResolver extends HostResolver {
  protected override readonly timeoutMs = 50;
  constructor(private readonly table: Record<string, string[] | 'hang'>) {
    super();
  }
  protected override lookupAll(host: string): Promise<HostAddress[]> {
    const entry = this.table[host];
    if (entry === 'hang') return new Promise(() => undefined);
    if (entry === undefined)
      return Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    return Promise.resolve(entry.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  }
}

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
    '255.255.255.255',
    '::1',
    '::',
    'fd12:3456::1',
    'fe80::1',
    'fe80::1%eth0',
    'fec0::1',
    'ff02::1',
    '100::1',
    '2001:db8::1',
    '3fff::1',
    'not an address',
  ])('blocks %s', (ip) => expect(isBlockedAddress(ip)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '2001:4860:4860::8888'])('allows %s', (ip) =>
    expect(isBlockedAddress(ip)).toBe(false),
  );

  describe('IPv6 addresses that embed an IPv4 address are judged by the IPv4 inside', () => {
    it.each([
      ['::ffff:127.0.0.1', 'mapped', '127.0.0.1'],
      ['::ffff:7f00:1', 'mapped', '127.0.0.1'],
      ['::ffff:a9fe:a9fe', 'mapped', '169.254.169.254'],
      ['::7f00:1', 'compatible', '127.0.0.1'],
      ['::10.0.0.1', 'compatible', '10.0.0.1'],
      ['::ffff:0:7f00:1', 'translated', '127.0.0.1'],
      ['::ffff:0:192.168.1.1', 'translated', '192.168.1.1'],
      ['64:ff9b::7f00:1', 'nat64', '127.0.0.1'],
      ['64:ff9b::169.254.169.254', 'nat64', '169.254.169.254'],
      ['64:ff9b:1::a9fe:a9fe', 'nat64-local', '169.254.169.254'],
      ['64:ff9b:1::a00:1', 'nat64-local', '10.0.0.1'],
      ['2002:7f00:1::1', '6to4', '127.0.0.1'],
      ['2002:a9fe:a9fe::', '6to4', '169.254.169.254'],
      ['2002:c0a8:101:1::1', '6to4', '192.168.1.1'],
      // Teredo: server 65.54.227.120, client (inverted last 32 bits) as named.
      ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo', '127.0.0.1'],
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo', '192.0.2.45'],
      ['2001:0:4136:e378:8000:63bf:5601:5601', 'teredo', '169.254.169.254'],
    ])('refuses %s (%s of %s)', (address, form, ipv4) => {
      expect(embeddedIPv4(address)).toEqual({ form, ipv4 });
      expect(isBlockedAddress(address)).toBe(true);
    });

    it.each([
      ['::ffff:93.184.216.34', 'mapped'],
      ['::5db8:d822', 'compatible'],
      ['::ffff:0:5db8:d822', 'translated'],
      ['64:ff9b::5db8:d822', 'nat64'],
      ['64:ff9b:1::5db8:d822', 'nat64-local'],
      ['2002:5db8:d822::1', '6to4'],
      ['2001:0:4136:e378:8000:63bf:a247:27dd', 'teredo'],
    ])('allows %s (%s of the public 93.184.216.34)', (address, form) => {
      expect(embeddedIPv4(address)).toEqual({ form, ipv4: '93.184.216.34' });
      expect(isBlockedAddress(address)).toBe(false);
    });

    it('refuses the local-use NAT64 prefix outside its /96 layout (the IPv4 could sit anywhere)', () => {
      expect(embeddedIPv4('64:ff9b:1:5db8:d8:2200::')).toBeNull();
      expect(isBlockedAddress('64:ff9b:1:5db8:d8:2200::')).toBe(true);
    });

    it('finds no IPv4 in other addresses', () => {
      for (const a of ['2606:4700:4700::1111', '2001:4860::8888', '2001:db8::1', 'fe80::1', '127.0.0.1'])
        expect(embeddedIPv4(a)).toBeNull();
    });
  });

  it('wants https, no credentials, no local names, unless insecure is allowed', () => {
    expect(urlProblem('https://hooks.example.com/sms', false)).toBeNull();
    expect(urlProblem('http://hooks.example.com/sms', false)).toMatch(/https/);
    expect(urlProblem('https://a:b@hooks.example.com/', false)).toMatch(/credentials/);
    expect(urlProblem('https://localhost:8443/', false)).toMatch(/local/);
    expect(urlProblem('https://localhost./', false)).toMatch(/local/);
    expect(urlProblem('https://[::1]/', false)).toMatch(/private/);
    expect(urlProblem('https://0x7f.1/', false)).toMatch(/private/); // WHATWG URL normalises to 127.0.0.1
    expect(urlProblem('http://127.0.0.1:9/', true)).toBeNull();
    expect(urlProblem('ftp://x/', true)).toMatch(/https/);
    expect(urlProblem(`https://example.com/${'a'.repeat(2000)}`, false)).toMatch(/2000/);
  });

  it.each(['https://[::7f00:1]/cb', 'https://[::ffff:0:7f00:1]/cb', 'https://[64:ff9b:1::a9fe:a9fe]/cb'])(
    'refuses the literal %s',
    (url) => expect(urlProblem(url, false)).toMatch(/private or reserved/),
  );

  describe('resolveTarget', () => {
    const dns = new TableResolver({
      'hooks.example.com': ['93.184.216.34', '2606:4700:4700::1111'],
      'vm.example.com': ['127.0.0.1'],
      'mixed.example.com': ['93.184.216.34', '64:ff9b::a9fe:a9fe'],
      'slow.example.com': 'hang',
    });
    const refusal = (url: string) =>
      resolveTarget(url, false, dns).then(
        () => null,
        (e: unknown) => e,
      );

    it('pins the first address of a host whose every address is public', async () => {
      const target = await resolveTarget('https://hooks.example.com/sms', false, dns);
      expect(target).toMatchObject({ address: '93.184.216.34', family: 4 });
    });

    it('refuses a host when any of its addresses is private, whatever its form', async () => {
      expect(await refusal('https://vm.example.com/cb')).toEqual(
        new TargetRefusedError('url host resolves to a private or reserved address'),
      );
      expect(await refusal('https://mixed.example.com/cb')).toMatchObject({
        message: 'url host resolves to a private or reserved address',
      });
    });

    it('refuses a host that does not resolve, for good', async () => {
      expect(await refusal('https://nowhere.example.com/cb')).toMatchObject({
        message: 'url host does not resolve',
        transient: false,
      });
    });

    it('gives up on a resolver that does not answer in time, as a refusal that may pass later', async () => {
      expect(await refusal('https://slow.example.com/cb')).toMatchObject({
        message: 'url host did not resolve in time (no answer within 50 ms)',
        transient: true,
      });
    });

    it('lets insecure mode call a private address, not a name that does not resolve', async () => {
      await expect(resolveTarget('http://vm.example.com/cb', true, dns)).resolves.toMatchObject({
        address: '127.0.0.1',
      });
      await expect(resolveTarget('http://nowhere.example.com/cb', true, dns)).rejects.toThrow(
        'url host does not resolve',
      );
    });
  });

  it('resolves through the system resolver by default', async () => {
    const addresses = await new HostResolver().addresses('localhost');
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((a) => isBlockedAddress(a.address))).toBe(true);
  });

  it('backs off exponentially with jitter, capped at an hour', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, mid))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(40, 1000, mid)).toBe(3600_000);
    expect(retryDelayMs(1, 1000, () => 0)).toBe(800);
    expect(retryDelayMs(1, 1000, () => 1)).toBe(1200);
  });
});
