/**
 * `npm run bench`: measures the service on this machine against the real PostgreSQL and Redis,
 * with the sandbox provider, and writes docs/BENCHMARKS.md. Not part of `npm test`.
 *
 * The service runs as a child process (`node dist/src/main.js`), as in production; this process
 * only drives load and measures, so the two do not share an event loop. Each phase
 * (bench/phases/*.ts) starts the service it needs and answers named figures.
 *
 * - no flag: every phase; rewrites the BENCH block.
 * - `--only=core` (a)–(d), `--only=worker` (a), (b), (d), `--only=api` (c): printed only.
 * - `--only=campaign`, `--only=stats`, `--only=codes`: that phase; rewrites its own block.
 * - `--only=history` (j), a bulk on a ledger with a month of history: printed only.
 * - `--skip=stats`: the full run without the 1,000,000-message stats seed.
 * - `--compare <git-rev> [--pairs=N]`: the chosen phases (default core and codes) for that
 *   revision's build and this one, alternated (bench/compare.ts); rewrites BENCH-COMPARE.
 */
import { Phase } from './context';
import { compare } from './compare';
import { campaignScenario } from './phases/campaign';
import { codesUnderLoad } from './phases/codes';
import { ledgerWithHistory } from './phases/history';
import { apiPath, CONCURRENCY, DURATION_S, rawBull, slowProvider, workerPath } from './phases/core';
import { rollupCostScenario, rollupSendPathScenario, statsScenario } from './phases/stats';
import { load, machine, rowsTable, writeBlock } from './report';
import { runBuild } from './runner';

/** The phases `--only=<name>` runs (a comma-separated list runs several, in this order). */
const PHASES: Record<string, Phase[]> = {
  worker: [rawBull, workerPath],
  core: [rawBull, workerPath, apiPath],
  api: [apiPath],
  stats: [rollupSendPathScenario, rollupCostScenario, statsScenario],
  campaign: [campaignScenario],
  codes: [codesUnderLoad],
  history: [ledgerWithHistory],
};
/** The block a single `--only=<name>` run rewrites; the others only print. */
const BLOCKS: Record<string, string> = {
  stats: 'BENCH-STATS',
  campaign: 'BENCH-CAMPAIGN',
  codes: 'BENCH-CODES',
};

function flag(name: string): string | undefined {
  const args = process.argv.slice(2);
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  if (eq) return eq.slice(name.length + 3);
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
}

function chosen(): string[] | null {
  const only = flag('only');
  if (only === undefined) return null;
  const names = only.split(',').filter(Boolean);
  const unknown = names.filter((n) => !(n in PHASES));
  if (unknown.length || names.length === 0)
    throw new Error(`--only takes ${Object.keys(PHASES).join(', ')} (comma-separated); got ${only}`);
  return names;
}

/** Phases of several names, each phase once (core includes worker's). */
function phasesOf(names: string[]): Phase[] {
  return [...new Set(names.flatMap((n) => PHASES[n]))];
}

function fullRun(): Phase[] {
  return [
    rawBull,
    workerPath,
    apiPath,
    slowProvider,
    rollupSendPathScenario,
    rollupCostScenario,
    // `--skip=stats`: the delivery figures alone (the 1,000,000-message stats seed takes minutes).
    ...(process.argv.includes('--skip=stats') ? [] : [statsScenario]),
    campaignScenario,
    codesUnderLoad,
  ];
}

async function main(): Promise<void> {
  const names = chosen();
  const rev = flag('compare');
  if (rev !== undefined) {
    if (rev === '' || rev.startsWith('--')) throw new Error('--compare takes a git revision');
    const pairs = Number(flag('pairs') ?? 3);
    if (!Number.isInteger(pairs) || pairs < 1) throw new Error('--pairs must be a positive integer');
    const what = names ?? ['core', 'codes'];
    await compare(rev, phasesOf(what), what.join(', '), pairs);
    return;
  }
  const result = await runBuild(
    { role: 'this', rev: 'HEAD', dir: process.cwd() },
    names ? phasesOf(names) : fullRun(),
  );
  const table = rowsTable(result.rows);
  const block = names === null ? 'BENCH' : names.length === 1 ? BLOCKS[names[0]] : undefined;
  if (block === undefined) {
    // The partial runs: the figures, printed only.
    console.log(result.rows.map((r) => `${r.name}: ${r.figure} ${r.ratio}`).join('\n'));
    return;
  }
  console.log(table);
  writeBlock(
    block,
    [
      '<!-- Written by `npm run bench`; the analysis below the table is edited by hand. -->',
      `Last run: ${new Date().toISOString()} on ${machine()}; load average (1 / 5 / 15 min) at the end ${load()}.`,
      `Worker concurrency ${CONCURRENCY} for (a) and (b); load phases ${DURATION_S} s each.`,
      '',
      table,
      ...(result.notes.length ? ['', ...result.notes.map((n) => `- ${n}`)] : []),
    ].join('\n'),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
