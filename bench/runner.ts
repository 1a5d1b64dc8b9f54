/** One run: a build's service through a list of phases, on a fresh database migrated by that build. */
import { Client } from 'pg';
import { BenchContext, BenchRow, Build, Figure, fmt, Phase } from './context';
import {
  BASE,
  DATABASE_URL,
  dropBenchDatabase,
  freshDatabase,
  numbers,
  peakRssMiB,
  postBulk,
  spawnService,
  stopService,
  token,
} from './service';

export interface RunResult {
  figures: Figure[];
  rows: BenchRow[];
  notes: string[];
}

export async function runBuild(build: Build, phases: Phase[]): Promise<RunResult> {
  await freshDatabase(build);
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  const ctx: BenchContext = {
    db,
    base: BASE,
    build,
    token,
    numbers,
    // Every phase starts with no backlog: the messages an earlier phase left queued (the api-only
    // phase (c) accepts thousands that no worker takes) would be re-queued by the new service's
    // sweeper and compete with the phase's own traffic for the same worker slots.
    startService: async (env) => {
      await db.query(`UPDATE sms_messages SET status = 'canceled' WHERE status IN ('queued', 'scheduled')`);
      return spawnService(build, env);
    },
    stopService: async (child) => {
      const rss = peakRssMiB(child.pid as number);
      if (rss > ctx.peakRssMiB) ctx.peakRssMiB = rss;
      // Which phase's process set the peak: one line per service stopped, on stderr.
      console.error(`  [${build.rev}] service ${child.pid} stopped, peak RSS ${fmt(rss)} MiB`);
      await stopService(child);
    },
    postBulk,
    figures: new Map(),
    peakRssMiB: 0,
    rows: [],
    notes: [],
  };
  try {
    for (const phase of phases) for (const f of await phase(ctx)) ctx.figures.set(f.key, f);
  } finally {
    await db.end();
    await dropBenchDatabase();
  }
  if (ctx.peakRssMiB > 0) {
    ctx.figures.set('f', {
      key: 'f',
      label: '(f) peak RSS of the service',
      value: ctx.peakRssMiB,
      unit: 'MiB',
      better: 'lower',
    });
    ctx.rows.push({
      name: '(f) peak RSS of the service process',
      figure: `${fmt(ctx.peakRssMiB)} MiB`,
      target: 'reported',
      ratio: '',
      met: null,
    });
  }
  return { figures: [...ctx.figures.values()], rows: ctx.rows, notes: ctx.notes };
}
