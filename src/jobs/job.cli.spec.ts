import { SETTINGS } from '../config/app-config';
import { parseJobArgs, USAGE } from './job.cli';
import { JOB_NAMES, JOBS, scheduleSetting } from './job-registry';

describe('npm run job arguments', () => {
  it('asks for help without arguments or with --help', () => {
    expect(parseJobArgs([])).toEqual({ help: true });
    expect(parseJobArgs(['reminders', '--help'])).toEqual({ help: true });
  });

  it('takes a job name and, for reminders, a tenant', () => {
    expect(parseJobArgs(['status'])).toEqual({ name: 'status', tenantId: undefined });
    expect(parseJobArgs(['reminders', '--tenant', '42'])).toEqual({ name: 'reminders', tenantId: 42 });
  });

  it('takes every registered job by name', () => {
    for (const name of JOB_NAMES) expect(parseJobArgs([name])).toEqual({ name, tenantId: undefined });
  });

  it('refuses an unknown job, a bad tenant and a tenant on a cluster-wide job', () => {
    expect(parseJobArgs(['cleanup'])).toEqual({ error: 'unknown job "cleanup"' });
    expect(parseJobArgs(['reminders', '--tenant', 'x'])).toEqual({ error: 'unexpected argument "--tenant"' });
    expect(parseJobArgs(['retention', '--tenant', '1'])).toEqual({
      error: '--tenant applies to reminders only',
    });
  });
});

describe('npm run job -- --help', () => {
  it('lists every periodic loop: the six that ran on their own timers and the brief jobs', () => {
    for (const name of [
      'sweep',
      'outcomes',
      'campaigns',
      'callbacks',
      'rollup',
      'alerts',
      'reminders',
      'status',
      'retention',
      'fallbacks',
      'partitions',
    ])
      expect(USAGE).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(USAGE.match(/^ {2}[a-z]+ {2,}\S/gm)).toHaveLength(JOB_NAMES.length);
  });

  it('names each job schedule setting, with its default, and its cluster-once rule', () => {
    for (const name of JOB_NAMES) {
      const setting = scheduleSetting(JOBS[name].schedule);
      const block = USAGE.slice(USAGE.search(new RegExp(`^  ${name} `, 'm')))
        .split('\n')
        .slice(0, 3)
        .join('\n');
      expect(block).toContain(setting);
      expect(block).toContain(String(SETTINGS[setting].default));
      expect(block).toMatch(/once per cluster: (advisory lock|queued on sms-jobs|every worker runs it)/);
    }
  });
});
