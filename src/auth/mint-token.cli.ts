/** `npm run token -- --tenant 1 --user 1 --role admin [--role super_admin] [--ttl 3600] [--test-mode] [--dashboard]` prints a JWT. */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/app-config';
import { loadDotEnv } from '../config/dotenv';
import { withJwtSecretFile } from '../config/secret-file';
import { signToken } from './tokens';

export const TOKEN_USAGE = `Usage: npm run token -- [--tenant N] [--user ID] [--role ROLE]... [--ttl SECONDS] [--test-mode] [--dashboard]

Prints a development JWT signed with JWT_SECRET (read from the environment or .env; unset: the
secret npm start generated in JWT_SECRET_FILE, .sms-secrets/jwt-secret by default).
  --tenant N       tenant id (default 1)
  --user ID        user id, the token's sub (default 1)
  --role ROLE      admin or super_admin; repeat for several (default: none, a plain user)
  --ttl SECONDS    lifetime (default 3600; at most JWT_MAX_TTL_SECONDS is accepted by the API)
  --test-mode      a test-mode token (claim test_mode: true): its messages go to the sandbox only,
                   whatever provider is configured, and cost nothing (docs/sending.md, Test numbers)
  --dashboard      print a sign-in link to the dashboard instead (http://localhost:PORT/dashboard#token=...;
                   the fragment never reaches the server)
  -h, --help       this text

Example: curl -H "Authorization: Bearer $(npm run token --silent -- --role admin)" localhost:3000/api/sms/history
         npm run token --silent -- --role admin --dashboard`;

export type TokenArgs =
  | { help: true }
  | { error: string }
  | { tenant: number; user: string; roles: string[]; ttl: number; testMode?: true; dashboard?: true };

/** The dashboard's sign-in link: the token rides in the fragment, which browsers never send. */
export function dashboardLink(token: string, port: number): string {
  return `http://localhost:${port}/dashboard#token=${encodeURIComponent(token)}`;
}

export function parseTokenArgs(argv: string[]): TokenArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        tenant: { type: 'string', default: '1' },
        user: { type: 'string', default: '1' },
        role: { type: 'string', multiple: true, default: [] },
        ttl: { type: 'string', default: '3600' },
        help: { type: 'boolean', short: 'h', default: false },
        dashboard: { type: 'boolean', default: false },
        'test-mode': { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  if (values.help) return { help: true };
  const tenant = Number(values.tenant);
  if (!Number.isInteger(tenant) || tenant < 1) return { error: '--tenant must be a positive whole number' };
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1) return { error: '--ttl must be a positive whole number of seconds' };
  for (const role of values.role)
    if (role !== 'admin' && role !== 'super_admin')
      return { error: `--role must be admin or super_admin (got "${role}")` };
  return {
    tenant,
    user: values.user,
    roles: values.role,
    ttl,
    ...(values['test-mode'] ? { testMode: true as const } : {}),
    ...(values.dashboard ? { dashboard: true as const } : {}),
  };
}

/** The command; `env` is process.env (after .env) when run from the shell. */
export function main(argv: string[], env: Record<string, string | undefined> = process.env): number {
  const args = parseTokenArgs(argv);
  if ('help' in args) {
    console.log(TOKEN_USAGE);
    return 0;
  }
  if ('error' in args) {
    console.error(`${args.error}\n\n${TOKEN_USAGE}`);
    return 2;
  }
  if (env === process.env) loadDotEnv();
  let secret: string;
  let port: number;
  try {
    const config = loadConfig(withJwtSecretFile(env).env);
    secret = config.get('JWT_SECRET');
    port = config.get('PORT');
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : e);
    return 1;
  }
  const token = signToken(
    {
      sub: args.user,
      tenant_id: args.tenant,
      roles: args.roles,
      ...(args.testMode ? { test_mode: true } : {}),
    },
    secret,
    { expiresInSeconds: args.ttl },
  );
  console.log(args.dashboard ? dashboardLink(token, port) : token);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
