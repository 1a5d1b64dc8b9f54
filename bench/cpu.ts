/**
 * CPU time from /proc (user + system) and Redis's INFO: which process a unit of work's time went
 * to. Not a steadier figure than a rate on a shared host: a slower moment there inflates the CPU
 * time of the same work about as much as it lowers the rate (docs/BENCHMARKS.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Client } from 'pg';
import type IORedis from 'ioredis';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const HZ = 100;

function statFields(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  } catch {
    return null;
  }
}

/** A process's own user + system time, in ms, from its stat fields. */
function ownMs(fields: string[]): number {
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / HZ;
}

/** CPU time (user + system, ms) of one process on this machine; null if it is not visible here. */
export function processCpuMs(pid: number): number | null {
  const fields = statFields(pid);
  return fields ? ownMs(fields) : null;
}

/** CPU time (user + system, ms) of one process; 0 once it is gone. */
export function cpuMs(pid: number | undefined): number {
  return (pid ? processCpuMs(pid) : null) ?? 0;
}

/**
 * CPU time of the postmaster and every process it forked (backends, WAL writer, autovacuum…):
 * the live ones' own, plus what the ended ones used (the postmaster's cutime and cstime).
 */
export function pgCpuMs(postmaster: number): number {
  const own = statFields(postmaster);
  if (!own) return 0;
  let total = ((Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])) * 1000) / HZ;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === postmaster) total += ownMs(fields);
  }
  return total;
}

/** A numeric field of Redis's INFO text (0 when absent). */
export function redisInfo(info: string, field: string): number {
  const m = new RegExp(`^${field}:([0-9.]+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

/** CPU time of what one service process, its PostgreSQL and its Redis spent, in ms. */
export interface CpuSnapshot {
  service: number;
  postgres: number;
  redis: number;
}

/**
 * Reads the CPU of a service process, of the PostgreSQL server `db` is connected to (when it runs
 * on this machine: its postmaster is the parent of `db`'s backend) less `db`'s own backend, and of
 * the Redis server `redis` talks to.
 */
export async function cpuSnapshot(
  servicePid: number | undefined,
  db: Client,
  redis: IORedis,
): Promise<CpuSnapshot> {
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const backend = rows[0].pid;
  const postmaster = Number(statFields(backend)?.[1] ?? 0);
  const info = await redis.info('cpu');
  return {
    service: cpuMs(servicePid),
    postgres: postmaster ? pgCpuMs(postmaster) - cpuMs(backend) : NaN,
    redis: (redisInfo(info, 'used_cpu_user') + redisInfo(info, 'used_cpu_sys')) * 1000,
  };
}

/** µs of CPU per unit of work between two snapshots, by process. */
export function cpuPerUnitUs(before: CpuSnapshot, after: CpuSnapshot, units: number): CpuSnapshot {
  const per = (k: keyof CpuSnapshot) => ((after[k] - before[k]) * 1000) / units;
  return { service: per('service'), postgres: per('postgres'), redis: per('redis') };
}
