import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { JobHandler, JobHandlers } from './job-handlers';
import { JOB_NAMES } from './job-registry';
import { checkHandlers, JobRunner } from './job-runner';

const handler: JobHandler = { run: async () => 'ran', tick: async () => 'ticked' };
const all = (): Record<string, JobHandler> => Object.fromEntries(JOB_NAMES.map((n) => [n, handler]));

describe('the job registry', () => {
  it('takes one handler for every registered job', () => {
    expect(Object.keys(checkHandlers(all())).sort()).toEqual([...JOB_NAMES].sort());
  });

  it('refuses a registered job without a handler, naming it', () => {
    const { alerts: _alerts, ...rest } = all();
    expect(() => checkHandlers(rest)).toThrow('no handler for job "alerts"');
  });

  it('refuses a queued job whose handler cannot enqueue, and a handler for an unknown job', () => {
    expect(() => checkHandlers({ ...all(), status: { run: async () => 'ran' } })).toThrow(
      'job "status" is queued, but its handler has no tick to enqueue it',
    );
    expect(() => checkHandlers({ ...all(), cleanup: handler })).toThrow(
      'handler for "cleanup", which is not a registered job',
    );
  });

  it('stops the start of an app whose registry lacks a handler', async () => {
    const { rollup: _rollup, ...rest } = all();
    const builder = Test.createTestingModule({
      providers: [
        JobRunner,
        { provide: JobHandlers, useValue: { map: rest } },
        // Never queried: the check runs when the runner is constructed.
        { provide: DataSource, useValue: {} },
      ],
    });
    await expect(builder.compile()).rejects.toThrow('job registry: no handler for job "rollup"');
  });
});
