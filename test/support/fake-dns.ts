import { HostAddress, HostResolver } from '../../src/callbacks';

/**
 * DNS for tests, in place of the system resolver (`overrideProvider(HostResolver)`): the names a
 * test gives, each to its addresses or to a resolver that never answers (`'hang'`); any other name
 * does not exist. The time limit is the real code's, shortened. Records every name asked.
 */
export class FakeDns extends HostResolver {
  protected override readonly timeoutMs = 200;
  readonly asked: string[] = [];
  private readonly names = new Map<string, string[] | 'hang'>();

  set(host: string, addresses: string[] | 'hang'): this {
    this.names.set(host, addresses);
    return this;
  }

  protected override lookupAll(host: string): Promise<HostAddress[]> {
    this.asked.push(host);
    const entry = this.names.get(host);
    if (entry === 'hang') return new Promise<never>(() => undefined);
    if (entry === undefined)
      return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(entry.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  }
}
