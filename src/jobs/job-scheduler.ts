import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { CronTime } from 'cron';
import { AppConfig } from '../config/app-config';
import { JOB_NAMES, JobName, JOBS } from './job-registry';
import { JobRunner } from './job-runner';

/** setTimeout's longest delay (about 24.8 days); a later tick is reached in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The first fire of a five-field cron expression strictly after `after` (host time zone). */
export function nextFire(expression: string, after: Date): Date {
  return new CronTime(expression).getNextDateFrom(after).toJSDate();
}

/**
 * The worker role's clock for the registry: every job ticks on its schedule setting (an interval
 * in ms, or a cron expression) and `JobRunner` applies its cluster-once rule. A tick that comes
 * while the job's previous tick still runs is skipped, so a slow run is never overlapped in a
 * process; a failed tick is logged with the job's name and the next one tries again. On shutdown
 * the timers stop first (module destroy) and the ticks in flight are awaited before connections
 * close. Not in the api role, nor in a one-shot `npm run job` context.
 */
@Injectable()
export class JobScheduler implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobScheduler.name);
  private readonly timers = new Map<JobName, NodeJS.Timeout>();
  private readonly inFlight = new Map<JobName, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly runner: JobRunner,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    for (const name of JOB_NAMES) {
      const schedule = JOBS[name].schedule;
      if (schedule.every !== undefined) {
        const timer = setInterval(() => this.fire(name, new Date()), this.config.get(schedule.every));
        timer.unref();
        this.timers.set(name, timer);
      } else this.atNextFire(name, this.config.get(schedule.cron), new Date());
    }
  }

  /** The jobs with a running tick (for tests and shutdown). */
  running(): JobName[] {
    return [...this.inFlight.keys()];
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    await Promise.all(this.inFlight.values());
  }

  private atNextFire(name: JobName, expression: string, after: Date): void {
    if (this.stopped) return;
    const at = nextFire(expression, after);
    const delay = at.getTime() - Date.now();
    const timer =
      delay > MAX_TIMEOUT_MS
        ? setTimeout(() => this.atNextFire(name, expression, after), MAX_TIMEOUT_MS)
        : setTimeout(
            () => {
              this.fire(name, at);
              // Ticks missed while the process was blocked are not caught up: the next one is after now.
              this.atNextFire(name, expression, new Date(Math.max(at.getTime(), Date.now())));
            },
            Math.max(0, delay),
          );
    timer.unref();
    this.timers.set(name, timer);
  }

  /** Starts the tick planned for `at` unless the job's previous tick is still running. */
  private fire(name: JobName, at: Date): void {
    if (this.stopped || this.inFlight.has(name)) return;
    const tick = this.runner
      .tick(name, at)
      .then(
        () => undefined,
        (e: unknown) => this.logger.error({ job: name, err: String(e) }, `${name} job failed`),
      )
      .finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, tick);
  }
}
