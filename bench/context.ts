/** What bench/run.ts hands to each scenario file (bench/stats.ts, bench/campaign.ts), and its table row. */
import type { ChildProcess } from 'node:child_process';
import type { Client } from 'pg';

/** One row of the table written into docs/BENCHMARKS.md. */
export interface BenchRow {
  name: string;
  figure: string;
  target: string;
  ratio: string;
  met: boolean | null;
}

export interface BenchContext {
  db: Client;
  base: string;
  /** An admin token of the tenant; `user` makes it a plain user's. */
  token: (tenant: number, user?: string) => string;
  /** `count` valid, distinct numbers from `offset`. */
  numbers: (count: number, offset?: number) => string[];
  /** Starts the service with this environment (and the phase's own Redis prefix). */
  startService: (env: Record<string, string>) => Promise<ChildProcess>;
  stopService: (child: ChildProcess) => Promise<void>;
  /** POST /api/sms/send-bulk as the tenant's admin; answers the batch id. */
  postBulk: (tenant: number, phoneNumbers: string[]) => Promise<{ batchId: string }>;
  rows: BenchRow[];
  notes: string[];
}

/** A figure for the table: thousands separated, `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
