import { dashboardLink, parseTokenArgs } from './mint-token.cli';

describe('npm run token arguments', () => {
  it('answers --help and -h with usage instead of a stack trace', () => {
    expect(parseTokenArgs(['--help'])).toEqual({ help: true });
    expect(parseTokenArgs(['-h'])).toEqual({ help: true });
  });

  it('has defaults and reads repeated roles', () => {
    expect(parseTokenArgs([])).toEqual({ tenant: 1, user: '1', roles: [], ttl: 3600 });
    expect(parseTokenArgs(['--tenant', '7', '--role', 'admin', '--role', 'super_admin'])).toMatchObject({
      tenant: 7,
      roles: ['admin', 'super_admin'],
    });
  });

  it('names the bad argument', () => {
    expect(parseTokenArgs(['--bogus'])).toEqual({ error: expect.stringContaining('--bogus') });
    expect(parseTokenArgs(['--tenant', 'x'])).toEqual({ error: '--tenant must be a positive whole number' });
    expect(parseTokenArgs(['--role', 'root'])).toEqual({
      error: '--role must be admin or super_admin (got "root")',
    });
  });

  it('--test-mode asks for a test-mode token', () => {
    expect(parseTokenArgs(['--test-mode'])).toEqual({
      tenant: 1,
      user: '1',
      roles: [],
      ttl: 3600,
      testMode: true,
    });
    expect(parseTokenArgs([])).not.toHaveProperty('testMode');
  });

  it('--dashboard asks for a sign-in link with the token in the fragment', () => {
    expect(parseTokenArgs(['--role', 'admin', '--dashboard'])).toMatchObject({
      roles: ['admin'],
      dashboard: true,
    });
    expect(parseTokenArgs([])).not.toHaveProperty('dashboard');
    expect(dashboardLink('a.b-c_d.e', 3000)).toBe('http://localhost:3000/dashboard#token=a.b-c_d.e');
  });
});
