/**
 * `npm run job -- <reminders|status|retention|sweep> [--tenant N]`: runs one scheduled job once,
 * now, in this process (the app's context in the worker role, without HTTP, crons or queue
 * processors), and prints its result as JSON. Uses the service's environment (.env settings).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { ConfigError, loadConfig } from '../config/app-config';
import { loadDotEnv } from '../config/dotenv';
import { JobRunner } from './job-runner';
import { isJobName, JOB_NAMES } from './jobs-queue';

export const USAGE = `usage: npm run job -- <${JOB_NAMES.join('|')}> [--tenant N]

  reminders   send due appointment reminders (every tenant, or only --tenant N)
  status      resolve messages stuck in sending and ask providers about unconfirmed ones
  retention   delete finished messages past SMS_RETENTION_DAYS, expired keys and codes
  sweep       queue again messages that should be queued but are not in Redis

Prints the job's result as JSON; exits 1 on an error, 2 on bad arguments.`;

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
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env, APP_ROLE: 'worker' });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, { oneShot: true }), {
    logger: ['error', 'warn'],
  });
  try {
    const started = Date.now();
    const result = await app.get(JobRunner).run(args.name, args.tenantId);
    console.log(
      JSON.stringify({ job: args.name, tenant: args.tenantId ?? null, result, ms: Date.now() - started }),
    );
    return 0;
  } finally {
    await app.close();
  }
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
