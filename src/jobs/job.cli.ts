/**
 * `npm run job -- <name> [--tenant N]`: runs one registered job once, now, in this process (the
 * app's context in the worker role, without HTTP, schedules, queue workers or the worker's metrics
 * port, so it works beside a running worker), and prints its result as JSON. Uses the service's
 * environment (.env settings). `npm run job -- --help` lists every job.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { AppConfig, ConfigError, loadConfig, SETTINGS } from '../config/app-config';
import { withJwtSecretFile } from '../config/secret-file';
import { loadDotEnv } from '../config/dotenv';
import { JobRunner } from './job-runner';
import { describeRule, isJobName, JOB_NAMES, JOBS, scheduleSetting } from './job-registry';

function usage(): string {
  const width = Math.max(...JOB_NAMES.map((n) => n.length)) + 2;
  const pad = ' '.repeat(2 + width);
  const jobs = JOB_NAMES.map((name) => {
    const { description, schedule, rule } = JOBS[name];
    const setting = scheduleSetting(schedule);
    const when = schedule.every
      ? `every ${setting} (default ${SETTINGS[setting].default} ms)`
      : `on cron ${setting} (default "${SETTINGS[setting].default}")`;
    return `  ${name.padEnd(width)}${description}\n${pad}${when}\n${pad}once per cluster: ${describeRule(rule)}`;
  });
  return `usage: npm run job -- <name> [--tenant N]

Runs one job once, now, in this process (no HTTP, no schedules, no queue workers, no ports, so it
works beside a running worker), and prints its result as JSON; exits 1 on an error, 2 on bad
arguments. A job whose lock another process holds prints {"skipped": ...}. The worker role runs
every job on its schedule (the setting named below).

jobs:
${jobs.join('\n')}

  --tenant N  reminders only: that tenant's due reminders`;
}

export const USAGE = usage();

export interface JobArgs {
  name: string;
  tenantId?: number;
}

/** Parses the arguments; a string is the message to print (usage or error). */
export function parseJobArgs(argv: string[]): JobArgs | { help: true } | { error: string } {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) return { help: true };
  const [name, ...rest] = argv;
  if (!isJobName(name)) return { error: `unknown job "${name}"` };
  let tenantId: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--tenant' && /^\d+$/.test(rest[i + 1] ?? '')) {
      tenantId = Number(rest[++i]);
    } else return { error: `unexpected argument "${rest[i]}"` };
  }
  if (tenantId !== undefined && name !== 'reminders') return { error: '--tenant applies to reminders only' };
  return { name, tenantId };
}

/**
 * The one-shot run: boots the jobs' context (no HTTP, schedules, queue workers or ports), runs the
 * job, closes. `ms`: how long the job itself took.
 */
export async function runJobOnce(config: AppConfig, args: JobArgs): Promise<{ result: unknown; ms: number }> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, { oneShot: true }), {
    logger: ['error', 'warn'],
  });
  try {
    const started = Date.now();
    const result = await app.get(JobRunner).run(args.name, { tenantId: args.tenantId });
    return { result, ms: Date.now() - started };
  } finally {
    await app.close();
  }
}

async function main(): Promise<number> {
  const args = parseJobArgs(process.argv.slice(2));
  if ('help' in args) {
    console.log(USAGE);
    return 0;
  }
  if ('error' in args) {
    console.error(`${args.error}\n\n${USAGE}`);
    return 2;
  }
  loadDotEnv();
  const config = loadConfig({ LOG_LEVEL: 'warn', ...withJwtSecretFile(process.env).env, APP_ROLE: 'worker' });
  const { result, ms } = await runJobOnce(config, args);
  console.log(JSON.stringify({ job: args.name, tenant: args.tenantId ?? null, result: result ?? null, ms }));
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof ConfigError || e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
