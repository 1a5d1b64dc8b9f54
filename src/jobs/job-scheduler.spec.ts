import { Logger } from '@nestjs/common';
import { loadConfig } from '../config/app-config';
import { JobName } from './job-registry';
import { JobRunner } from './job-runner';
import { JobScheduler, nextFire } from './job-scheduler';

/** Records the ticks the scheduler asks for; `hold` keeps a job's ticks running until released. */
class RecordingRunner {
  readonly ticks: { name: JobName; at: Date }[] = [];
  readonly failing = new Set<JobName>();
  private readonly held = new Map<JobName, () => void>();
  private readonly holding = new Set<JobName>();

  hold(name: JobName): void {
    this.holding.add(name);
  }

  release(name: JobName): void {
    this.holding.delete(name);
    this.held.get(name)?.();
  }

  async tick(name: JobName, at: Date): Promise<unknown> {
    this.ticks.push({ name, at });
    if (this.failing.has(name)) throw new Error('db down');
    if (this.holding.has(name)) await new Promise<void>((r) => this.held.set(name, r));
    return 'ok';
  }

  of(name: JobName): Date[] {
    return this.ticks.filter((t) => t.name === name).map((t) => t.at);
  }
}

const config = loadConfig({
  SMS_SWEEP_INTERVAL_MS: '100',
  SMS_OUTCOMES_CRON: '* * * * *',
  SMS_RETENTION_CRON: '17 3 * * *',
});

describe('nextFire', () => {
  it('gives the next planned tick of a cron expression, strictly after the time given', () => {
    expect(nextFire('*/30 * * * *', new Date(2026, 0, 1, 10, 29, 59, 999))).toEqual(
      new Date(2026, 0, 1, 10, 30),
    );
    expect(nextFire('*/30 * * * *', new Date(2026, 0, 1, 10, 30))).toEqual(new Date(2026, 0, 1, 11, 0));
    expect(nextFire('17 3 * * *', new Date(2026, 0, 1, 10, 0))).toEqual(new Date(2026, 0, 2, 3, 17));
  });
});

describe('JobScheduler', () => {
  let runner: RecordingRunner;
  let scheduler: JobScheduler;
  let errors: unknown[];

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date(2026, 0, 1, 10, 0, 30) });
    errors = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => void errors.push(m));
    runner = new RecordingRunner();
    scheduler = new JobScheduler(runner as unknown as JobRunner, config);
    scheduler.onApplicationBootstrap();
  });

  afterEach(async () => {
    await scheduler.beforeApplicationShutdown();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('ticks an interval job every period of its setting', async () => {
    await jest.advanceTimersByTimeAsync(350);
    expect(runner.of('sweep')).toHaveLength(3);
  });

  it('ticks a cron job at its planned times, handing it the planned time', async () => {
    await jest.advanceTimersByTimeAsync(29_000);
    expect(runner.of('outcomes')).toEqual([]);
    await jest.advanceTimersByTimeAsync(2 * 60_000);
    expect(runner.of('outcomes')).toEqual([new Date(2026, 0, 1, 10, 1), new Date(2026, 0, 1, 10, 2)]);
    expect(runner.of('retention')).toEqual([]);
  });

  it('skips the ticks that come while the previous one still runs', async () => {
    runner.hold('sweep');
    await jest.advanceTimersByTimeAsync(550);
    expect(runner.of('sweep')).toHaveLength(1);
    expect(scheduler.running()).toContain('sweep');
    runner.release('sweep');
    await jest.advanceTimersByTimeAsync(100);
    expect(runner.of('sweep')).toHaveLength(2);
  });

  it('logs a failed tick with the job name and ticks again next time', async () => {
    runner.failing.add('sweep');
    await jest.advanceTimersByTimeAsync(250);
    expect(runner.of('sweep')).toHaveLength(2);
    expect(errors).toContainEqual({ job: 'sweep', err: 'Error: db down' });
  });

  it('on shutdown stops ticking and waits for the tick in flight', async () => {
    runner.hold('sweep');
    await jest.advanceTimersByTimeAsync(100);
    let closed = false;
    const closing = scheduler.beforeApplicationShutdown().then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(10 * 60_000);
    expect(closed).toBe(false);
    runner.release('sweep');
    await closing;
    expect(runner.ticks.map((t) => t.name)).toEqual(['sweep']);
  });
});
