/** The console table and the generated part of docs/RELIABILITY.md. */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { ScenarioResult } from './scenarios';

export const DOC_PATH = 'docs/RELIABILITY.md';

const mark = (pass: boolean | null) => (pass === null ? '' : pass ? 'PASS' : 'FAIL');
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function machine(): string {
  const cpu = cpus();
  const ram = (totalmem() / 2 ** 30).toFixed(1);
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${ram} GiB RAM, ${osType()} ${release()}, Node ${process.version}`;
}

export function table(results: ScenarioResult[]): string {
  const lines = ['| scenario | check | figure | target | |', '| --- | --- | --- | --- | --- |'];
  for (const r of results) {
    if (r.error) lines.push(`| ${r.key} | run | ERROR: ${cell(r.error)} | completes | FAIL |`);
    for (const c of r.checks)
      lines.push(`| ${r.key} | ${cell(c.name)} | ${cell(c.figure)} | ${cell(c.target)} | ${mark(c.pass)} |`);
  }
  return lines.join('\n');
}

export function verdict(results: ScenarioResult[]): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const r of results) {
    if (r.error) failed += 1;
    for (const c of r.checks) {
      if (c.pass === true) passed += 1;
      if (c.pass === false) failed += 1;
    }
  }
  return { passed, failed };
}

/** Rewrites the block between `<!-- block:START -->` and `<!-- block:END -->` (CHAOS: the full run; TOPOLOGY). */
export function writeDoc(
  results: ScenarioResult[],
  meta: { label: string; commit: string; options: string; totalSeconds: number },
  block: 'CHAOS' | 'TOPOLOGY' = 'CHAOS',
): void {
  const { passed, failed } = verdict(results);
  const command = block === 'CHAOS' ? '`npm run chaos`' : '`npm run chaos -- topology`';
  const generated = [
    `<!-- Written by ${command}; everything between the ${block} markers is replaced on each run. -->`,
    `**${meta.label}.** Run ${new Date().toISOString()} on commit \`${meta.commit}\`, ${machine()}.`,
    `Options: ${meta.options}. Whole run: ${Math.round(meta.totalSeconds)} s. Checks: ${passed} PASS, ${failed} FAIL.`,
    '',
    table(results),
    '',
    '### What happened in each scenario',
    '',
    ...results.map(
      (r) =>
        `- **${r.key}** (${r.title}; ${Math.round(r.seconds)} s): ` +
        (r.notes.length ? r.notes.join('. ') : 'no figures') +
        (r.error ? `. Error: ${r.error}` : '') +
        '.',
    ),
  ].join('\n');
  const [START, END] = [`<!-- ${block}:START -->`, `<!-- ${block}:END -->`];
  let doc: string;
  try {
    doc = readFileSync(DOC_PATH, 'utf8');
  } catch {
    doc = `# Reliability\n\n${START}\n${END}\n`;
  }
  const start = doc.indexOf(START);
  const stop = doc.indexOf(END);
  doc =
    start >= 0 && stop > start
      ? `${doc.slice(0, start)}${START}\n${generated}\n${doc.slice(stop)}`
      : `${doc}\n${START}\n${generated}\n${END}\n`;
  writeFileSync(DOC_PATH, doc);
}
