/** What bench/run.ts hands to each phase (bench/phases/*.ts), and what a phase gives back. */
import type { ChildProcess } from 'node:child_process';
import type { Client } from 'pg';

/** One row of the table written into docs/BENCHMARKS.md by a single run. */
export interface BenchRow {
  name: string;
  figure: string;
  target: string;
  ratio: string;
  met: boolean | null;
}

/**
 * One measured number, named so that two builds' runs can be paired (`--compare`): the same key
 * is the same measurement. `better` says which way is an improvement (null: neither, e.g. a count).
 */
export interface Figure {
  key: string;
  label: string;
  value: number;
  unit: string;
  better: 'higher' | 'lower' | null;
}

/** The build whose service a run starts: its own dist/ and its own migrations. */
export interface Build {
  /** `this` (the checkout the driver runs from) or `base` (the `--compare` revision). */
  role: 'this' | 'base';
  /** Short commit id (with `+changes` when the checkout has uncommitted changes). */
  rev: string;
  /** The directory holding its `dist/` (`dist/src/main.js`, `dist/src/database/cli.js`). */
  dir: string;
}

export interface BenchContext {
  db: Client;
  base: string;
  build: Build;
  /** An admin token of the tenant; `user` makes it a plain user's. */
  token: (tenant: number, user?: string) => string;
  /** `count` valid, distinct numbers from `offset`. */
  numbers: (count: number, offset?: number) => string[];
  /** Starts the build's service with this environment (and the phase's own Redis prefix). */
  startService: (env: Record<string, string>) => Promise<ChildProcess>;
  /** Stops it, first noting its peak resident set (`peakRssMiB`). */
  stopService: (child: ChildProcess) => Promise<void>;
  /** POST /api/sms/send-bulk as the tenant's admin; answers the batch id and the request's time. */
  postBulk: (tenant: number, phoneNumbers: string[]) => Promise<{ batchId: string; ms: number }>;
  /** The figures of the phases run so far in this run (a later phase may relate to one). */
  figures: Map<string, Figure>;
  /** The largest peak resident set (VmHWM, MiB) of the services this run started. */
  peakRssMiB: number;
  rows: BenchRow[];
  notes: string[];
}

/** A phase: starts what it needs, measures, stops it; pushes its table rows and answers its figures. */
export type Phase = (ctx: BenchContext) => Promise<Figure[]>;

/** A figure for the table: thousands separated, `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The `p` quantile (0..1) of the values, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

/** Polls `check` every 50 ms until it answers a value; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
