/**
 * The JWT secret of a start without `JWT_SECRET` (outside production): a random secret generated
 * once into JWT_SECRET_FILE and read back by every later start, `npm run token`, `npm run job` and
 * the migration commands, so tokens they mint and data keyed by it (SMS_DATA_KEY defaults to it)
 * stay valid across restarts, and no published secret is ever accepted.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, SETTINGS, weakSecretProblem } from './app-config';

/** What a start without JWT_SECRET used: the file, and whether this start created it. */
export interface JwtSecretFile {
  path: string;
  created: boolean;
}

/**
 * `env` with JWT_SECRET filled from JWT_SECRET_FILE when it is unset or blank and NODE_ENV is not
 * production (production needs JWT_SECRET itself: the platform must know it). The file is created
 * with a random secret (32 bytes, base64url) when missing, mode 0600 in a directory made 0700,
 * and never overwritten. Throws ConfigError when it is readable or writable by others, when its
 * directory is writable by others, or when its content is not a strong secret.
 */
export function withJwtSecretFile(env: Record<string, string | undefined>): {
  env: Record<string, string | undefined>;
  file: JwtSecretFile | null;
} {
  if ((env.JWT_SECRET ?? '').trim() !== '' || (env.NODE_ENV ?? SETTINGS.NODE_ENV.default) === 'production')
    return { env, file: null };
  const path = resolve(env.JWT_SECRET_FILE || SETTINGS.JWT_SECRET_FILE.default);
  const { secret, created } = readOrCreateSecretFile(path);
  return { env: { ...env, JWT_SECRET: secret }, file: { path, created } };
}

/** The secret in `path`, created first (atomically, never replacing one) when missing. */
export function readOrCreateSecretFile(path: string): { secret: string; created: boolean } {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let created = false;
  if (!exists(path)) {
    // Written whole under a private name, then linked into place: a second process starting at
    // the same moment either links first (we read its secret) or finds ours complete.
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('base64url')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(tmp);
    }
  }
  const problem = permissionProblem(path);
  if (problem) throw new ConfigError(`JWT_SECRET_FILE ${path} ${problem}`);
  const secret = readFileSync(path, 'utf8').trim();
  const weak = weakSecretProblem(secret);
  if (weak) throw new ConfigError(`JWT_SECRET_FILE ${path}: the secret in it ${weak}`);
  return { secret, created };
}

/** Why others could read or replace the secret file, or null. POSIX modes only (not on Windows). */
export function permissionProblem(path: string): string | null {
  if (process.platform === 'win32') return null;
  const file = statSync(path);
  if (!file.isFile()) return 'is not a regular file';
  if ((file.mode & 0o077) !== 0)
    return `has mode ${octal(file.mode)}: others may read it; chmod 600 it (and set a new secret if anyone did)`;
  const dir = statSync(dirname(path));
  if ((dir.mode & 0o022) !== 0)
    return `is in a directory of mode ${octal(dir.mode)}: others may replace it; chmod 700 the directory`;
  return null;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
