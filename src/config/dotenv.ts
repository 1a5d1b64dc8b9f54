import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Reads `.env` from the working directory into `env` when the file exists (as `docker compose`
 * does), so `npm start` honours the credentials and settings docs/settings.md says to put there.
 * Variables already set in the environment win over the file. Returns the file read, or null.
 * (Node's own parser, the one behind `--env-file`, which fails when the file is absent.)
 */
export function loadDotEnv(
  file = resolve(process.cwd(), '.env'),
  env: Record<string, string | undefined> = process.env,
): string | null {
  if (!existsSync(file)) return null;
  for (const [name, value] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) {
    if (env[name] === undefined) env[name] = value;
  }
  return file;
}
