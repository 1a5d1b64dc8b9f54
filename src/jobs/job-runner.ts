import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LockKey, withAdvisoryLock } from '../database/advisory-lock';
import { JobHandler, JobHandlerMap, JobHandlers, RunOptions } from './job-handlers';
import { isJobName, JOB_NAMES, JobName, JOBS } from './job-registry';

/** What a run that found its advisory lock held returns: another process is running the job. */
export const SKIPPED = { skipped: 'another replica holds the lock' } as const;

/**
 * Runs registered jobs by name under their cluster-once rule: the schedule's ticks
 * (`JobScheduler`), the `sms-jobs` queue (`JobsProcessor`) and the operator's `npm run job`.
 * Constructing it checks the registry: a job without a handler stops the app's start.
 */
@Injectable()
export class JobRunner {
  private readonly handlers: JobHandlerMap;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    handlers: JobHandlers,
  ) {
    this.handlers = checkHandlers(handlers.map);
  }

  /**
   * Runs a job once, now, in this process (the operator's CLI, a queued job) and resolves with
   * its result, or SKIPPED when its lock is held elsewhere; a failure throws.
   */
  async run(name: string, opts: RunOptions = {}): Promise<unknown> {
    if (!isJobName(name)) throw new Error(`unknown job ${name}`);
    const rule = JOBS[name].rule;
    const handler = this.handlers[name];
    switch (rule.kind) {
      case 'lock':
        return this.locked(rule.key, () => handler.run(opts));
      case 'queue':
        return rule.runLock === undefined
          ? handler.run(opts)
          : this.locked(rule.runLock, () => handler.run(opts));
      case 'every-worker':
        return handler.run(opts);
    }
  }

  /** The schedule's tick planned for `at` (worker role); a failure throws, for the scheduler to log. */
  async tick(name: JobName, at: Date): Promise<unknown> {
    const rule = JOBS[name].rule;
    const handler = this.handlers[name];
    const tick = () => (handler.tick ? handler.tick(at) : handler.run({}));
    switch (rule.kind) {
      case 'lock':
        return this.locked(rule.key, tick);
      case 'queue':
        return rule.tickLock === undefined ? tick() : this.locked(rule.tickLock, tick);
      case 'every-worker':
        return tick();
    }
  }

  private async locked(key: LockKey, fn: () => Promise<unknown>): Promise<unknown> {
    const result = await withAdvisoryLock(this.ds, key, async () => ({ value: await fn() }));
    return result === undefined ? SKIPPED : result.value;
  }
}

/**
 * The registry's start-up check: exactly one handler per registered job, and a tick for each
 * `queue` job (its tick enqueues instead of running). Returns the map, or throws naming every gap.
 */
export function checkHandlers(handlers: Partial<Record<string, JobHandler>>): JobHandlerMap {
  const problems: string[] = [];
  for (const name of JOB_NAMES) {
    const h = handlers[name];
    if (typeof h?.run !== 'function') problems.push(`no handler for job "${name}"`);
    else if (JOBS[name].rule.kind === 'queue' && typeof h.tick !== 'function')
      problems.push(`job "${name}" is queued, but its handler has no tick to enqueue it`);
  }
  for (const name of Object.keys(handlers))
    if (!isJobName(name)) problems.push(`handler for "${name}", which is not a registered job`);
  if (problems.length) throw new Error(`job registry: ${problems.join('; ')}`);
  return handlers as JobHandlerMap;
}
