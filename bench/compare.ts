/**
 * `npm run bench -- --compare <git-rev> [--pairs=N] [--only=…]`: the same phases for the build of
 * `<git-rev>` (built once in a scratch worktree, /tmp/sms-bench-<sha>) and for this checkout, run
 * alternately pair by pair with the order swapped each pair (base this, this base, …), each run
 * on a fresh bench database migrated by its own build. This process stays the driver for both:
 * only the service (its dist) and the migrations are the build's.
 *
 * Prints every figure of both builds (each run, the mean, the spread) and the ratio of the means,
 * and writes that table between the BENCH-COMPARE markers of docs/BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Build, Figure, fmt, Phase } from './context';
import { DURATION_S } from './phases/core';
import { load, machine, writeBlock } from './report';
import { runBuild } from './runner';
import { run } from './service';

function git(args: string[], cwd = process.cwd()): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** This checkout, as built by `npm run bench` before the driver started. */
function thisBuild(): Build {
  const changed = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  return {
    role: 'this',
    rev: `${git(['rev-parse', '--short', 'HEAD'])}${changed ? '+changes' : ''}`,
    dir: process.cwd(),
  };
}

/**
 * The base revision's build: a detached worktree at /tmp/sms-bench-<sha>, `npm ci` and
 * `npm run build` there once; a later compare with the same revision reuses it.
 */
async function baseBuild(rev: string): Promise<Build> {
  const sha = git(['rev-parse', '--verify', `${rev}^{commit}`]);
  const short = git(['rev-parse', '--short', sha]);
  const dir = `/tmp/sms-bench-${short}`;
  if (!existsSync(dir)) await run('git', ['worktree', 'add', '--detach', dir, sha], { cwd: process.cwd() });
  else if (git(['rev-parse', 'HEAD'], dir) !== sha)
    throw new Error(`${dir} is not at ${sha}: remove it first`);
  const marker = join(dir, '.bench-built');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== sha) {
    console.log(`building ${short} in ${dir}`);
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir });
    await run('npm', ['run', 'build'], { cwd: dir });
    writeFileSync(marker, sha);
  } else console.log(`reusing the build of ${short} in ${dir}`);
  return { role: 'base', rev: short, dir };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Relative sample standard deviation, in % of the mean. */
function relStdev(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  const variance = xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
  return m === 0 ? 0 : (Math.sqrt(variance) / Math.abs(m)) * 100;
}

/** A figure's digits: one decimal below 100 (latencies, percentages), none above. */
const show = (x: number) => fmt(x, Math.abs(x) < 100 ? 1 : 0);

function cell(xs: number[]): string {
  if (xs.length === 0) return '—';
  return `${xs.map(show).join(' · ')} (mean ${show(mean(xs))}, ±${fmt(relStdev(xs), 0)} %)`;
}

/** Better, worse, or within the spread (the two builds' min–max ranges overlap). */
function verdict(f: Figure, base: number[], mine: number[]): string {
  if (f.better === null || base.length === 0 || mine.length === 0) return '';
  const overlap = Math.min(...mine) <= Math.max(...base) && Math.min(...base) <= Math.max(...mine);
  if (overlap) return 'within spread';
  const higher = mean(mine) > mean(base);
  return higher === (f.better === 'higher') ? 'better' : 'worse';
}

export function compareTable(
  base: Map<string, number[]>,
  mine: Map<string, number[]>,
  figures: Map<string, Figure>,
): string {
  const lines = ['| figure | base | this | ratio this/base | |', '| --- | --- | --- | --- | --- |'];
  for (const [key, f] of figures) {
    const [b, t] = [base.get(key) ?? [], mine.get(key) ?? []];
    const ratio = b.length && t.length && mean(b) !== 0 ? fmt(mean(t) / mean(b), 2) : '—';
    lines.push(`| ${f.label}, ${f.unit} | ${cell(b)} | ${cell(t)} | ${ratio} | ${verdict(f, b, t)} |`);
  }
  return lines.join('\n');
}

export async function compare(rev: string, phases: Phase[], what: string, pairs: number): Promise<void> {
  const startedAt = new Date();
  const loadBefore = load();
  const base = await baseBuild(rev);
  const mine = thisBuild();
  const values = { base: new Map<string, number[]>(), this: new Map<string, number[]>() };
  const figures = new Map<string, Figure>();
  const notes: string[] = [];
  const order: string[] = [];
  for (let p = 0; p < pairs; p++) {
    for (const build of p % 2 === 0 ? [base, mine] : [mine, base]) {
      console.log(`\npair ${p + 1} of ${pairs}: ${build.role} (${build.rev}), load ${load()}`);
      order.push(build.role === 'base' ? 'B' : 'T');
      const result = await runBuild(build, phases);
      for (const f of result.figures) {
        if (!figures.has(f.key)) figures.set(f.key, f);
        const list = values[build.role].get(f.key) ?? [];
        values[build.role].set(f.key, [...list, f.value]);
        console.log(`  ${f.label}: ${show(f.value)} ${f.unit}`);
      }
      notes.push(...result.notes.map((n) => `${build.role} (${build.rev}), pair ${p + 1}: ${n}`));
    }
  }
  const table = compareTable(values.base, values.this, figures);
  console.log(`\n${table}`);
  const block = [
    '<!-- Written by `npm run bench -- --compare <rev>`; edit the analysis outside the markers. -->',
    `Run ${startedAt.toISOString()} to ${new Date().toISOString()} on ${machine()}; ` +
      `load average (1 / 5 / 15 min) ${loadBefore} at the start, ${load()} at the end.`,
    `Base \`${base.rev}\` (\`${rev}\`, built in ${base.dir}) against this \`${mine.rev}\`; ` +
      `phases ${what}; ${pairs} pairs, run order ${order.join(' ')}; (c) loads ${DURATION_S} s each.`,
    'Each cell: every run in order, the mean and the relative standard deviation; the ratio is of ' +
      'the means; "within spread" when the two builds\' ranges overlap.',
    '',
    table,
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
  writeBlock('BENCH-COMPARE', block);
}
