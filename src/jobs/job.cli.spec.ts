import { parseJobArgs } from './job.cli';

describe('npm run job arguments', () => {
  it('asks for help without arguments or with --help', () => {
    expect(parseJobArgs([])).toEqual({ help: true });
    expect(parseJobArgs(['reminders', '--help'])).toEqual({ help: true });
  });

  it('takes a job name and, for reminders, a tenant', () => {
    expect(parseJobArgs(['status'])).toEqual({ name: 'status', tenantId: undefined });
    expect(parseJobArgs(['reminders', '--tenant', '42'])).toEqual({ name: 'reminders', tenantId: 42 });
  });

  it('refuses an unknown job, a bad tenant and a tenant on a cluster-wide job', () => {
    expect(parseJobArgs(['cleanup'])).toEqual({ error: 'unknown job "cleanup"' });
    expect(parseJobArgs(['reminders', '--tenant', 'x'])).toEqual({ error: 'unexpected argument "--tenant"' });
    expect(parseJobArgs(['retention', '--tenant', '1'])).toEqual({
      error: '--tenant applies to reminders only',
    });
  });
});
