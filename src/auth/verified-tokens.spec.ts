import { Principal } from './principal';
import { bearerToken, verifiedExp, VerifiedTokens } from './verified-tokens';

const alice: Principal = { userId: 'alice', homeTenantId: 1, tenantId: 1, roles: ['super_admin'] };
const T0 = 1_800_000_000_000;

describe('VerifiedTokens', () => {
  it('knows a remembered token until its exp, and not at or after it', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('a.b.c', alice, T0 / 1000 + 60, T0);
    expect(tokens.get('a.b.c', T0 + 59_999)).toEqual(alice);
    expect(tokens.get('a.b.c', T0 + 60_000)).toBeNull();
    expect(tokens.size).toBe(0);
  });

  it('knows only the exact token (a changed signature is another token)', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('a.b.c', alice, T0 / 1000 + 60, T0);
    expect(tokens.get('a.b.d', T0)).toBeNull();
  });

  it('hands out a copy: a guard that changes tenantId or roles does not change the next request', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('a.b.c', alice, T0 / 1000 + 60, T0);
    const first = tokens.get('a.b.c', T0) as Principal;
    first.tenantId = 99;
    first.roles.push('admin');
    expect(tokens.get('a.b.c', T0)).toEqual(alice);
  });

  it('does not remember a token that has already expired', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('a.b.c', alice, T0 / 1000, T0);
    expect(tokens.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const tokens = new VerifiedTokens(2);
    for (const t of ['t1', 't2', 't3']) tokens.remember(t, alice, T0 / 1000 + 60, T0);
    expect(tokens.size).toBe(2);
    expect(tokens.get('t1', T0)).toBeNull();
    expect(tokens.get('t3', T0)).toEqual(alice);
  });
});

describe('bearerToken and verifiedExp', () => {
  it('reads the token of a Bearer header only', () => {
    expect(bearerToken('Bearer a.b.c')).toBe('a.b.c');
    expect(bearerToken('bearer a.b.c')).toBe('a.b.c');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken(['Bearer a.b.c'])).toBeNull();
  });

  it("reads a token's exp, or null when it has none", () => {
    const payload = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(verifiedExp(`h.${payload({ exp: 123 })}.s`)).toBe(123);
    expect(verifiedExp(`h.${payload({ sub: 'x' })}.s`)).toBeNull();
    expect(verifiedExp('garbage')).toBeNull();
  });
});
