/**
 * How long runnable work waited for a core (Linux): the host's CPU pressure and each service
 * process's main thread (its event loop). On a saturated host every hop of a message (an api, a
 * Redis node, a PostgreSQL backend, a worker) waits for a core when it wakes, and those waits are
 * in every latency the scenarios measure. Elsewhere the figures are absent, not zero.
 *
 * - `/proc/pressure/cpu`, `some … total=`: microseconds in which at least one task was runnable and
 *   waiting (PSI).
 * - `/proc/<pid>/schedstat`: the thread's time on a core, its time runnable but waiting (ns), and
 *   its time slices. The main thread's: the pid's own line is the thread group leader's.
 */
import { readFileSync } from 'node:fs';

export interface CpuWaitSample {
  at: number;
  /** PSI cpu `some` total, µs; null without PSI. */
  pressureUs: number | null;
  /** By process name: time on a core and waiting (ns), and slices of its main thread. */
  threads: Map<string, { runNs: number; waitNs: number; slices: number }>;
}

export interface CpuWait {
  /** Share of the time in which some task waited for a core (0..1); null without PSI. */
  pressure: number | null;
  /**
   * Per process that lived through both samples: share of the time its main thread ran and
   * waited, and the mean wait per slice (ms).
   */
  processes: { name: string; running: number; waiting: number; perSliceMs: number }[];
}

function readOr(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function sampleCpuWait(processes: { name: string; pid: number | undefined }[]): CpuWaitSample {
  const psi = /^some .*total=(\d+)/m.exec(readOr('/proc/pressure/cpu') ?? '');
  const threads = new Map<string, { runNs: number; waitNs: number; slices: number }>();
  for (const p of processes) {
    if (p.pid === undefined) continue;
    const fields = (readOr(`/proc/${p.pid}/schedstat`) ?? '').trim().split(/\s+/).map(Number);
    if (fields.length === 3 && fields.every(Number.isFinite))
      threads.set(p.name, { runNs: fields[0], waitNs: fields[1], slices: fields[2] });
  }
  return { at: performance.now(), pressureUs: psi ? Number(psi[1]) : null, threads };
}

/** What happened between two samples (pure). */
export function cpuWaitBetween(a: CpuWaitSample, b: CpuWaitSample): CpuWait {
  const wallMs = b.at - a.at;
  const pressure =
    a.pressureUs === null || b.pressureUs === null || wallMs <= 0
      ? null
      : Math.min(1, (b.pressureUs - a.pressureUs) / 1000 / wallMs);
  const processes: CpuWait['processes'] = [];
  for (const [name, x] of a.threads) {
    const y = b.threads.get(name);
    if (!y || wallMs <= 0 || y.slices <= x.slices) continue;
    const waitMs = (y.waitNs - x.waitNs) / 1e6;
    processes.push({
      name,
      running: (y.runNs - x.runNs) / 1e6 / wallMs,
      waiting: waitMs / wallMs,
      perSliceMs: waitMs / (y.slices - x.slices),
    });
  }
  return { pressure, processes };
}

/** One line for a report, e.g. `host 97 % · api1 ran 40 %, waited 41 % (1.9 ms per slice) · …`. */
export function formatCpuWait(w: CpuWait): string {
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  const parts = [w.pressure === null ? 'host: no PSI' : `host ${pct(w.pressure)}`];
  for (const p of w.processes)
    parts.push(
      `${p.name.replace(/^.*\//, '')} ran ${pct(p.running)}, waited ${pct(p.waiting)} (${p.perSliceMs.toFixed(1)} ms per slice)`,
    );
  return parts.join(' · ');
}
