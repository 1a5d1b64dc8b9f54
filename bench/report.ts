/** The tables `npm run bench` prints and writes between its markers in docs/BENCHMARKS.md. */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { BenchRow, fmt } from './context';

const PATH = 'docs/BENCHMARKS.md';

/** This machine, as the tables name it. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, ${osType()} ${release()}, Node ${process.version}`;
}

/** The 1-, 5- and 15-minute load averages: how busy the shared machine was. */
export function load(): string {
  return loadavg()
    .map((l) => fmt(l, 1))
    .join(' / ');
}

export function rowsTable(rows: BenchRow[]): string {
  const mark = (m: boolean | null) => (m === null ? '' : m ? 'met' : 'MISSED');
  return [
    '| measure | figure | target | ratio | |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.figure} | ${r.target} | ${r.ratio} | ${mark(r.met)} |`),
  ].join('\n');
}

/**
 * Rewrites the block between `<!-- block:START -->` and `<!-- block:END -->` of `path` (default
 * docs/BENCHMARKS.md; appended if absent).
 */
export function writeBlock(block: string, content: string, path = PATH): void {
  let doc: string;
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    doc = '# Benchmarks\n';
  }
  const [open, close] = [`<!-- ${block}:START -->`, `<!-- ${block}:END -->`];
  const start = doc.indexOf(open);
  const stop = doc.indexOf(close);
  doc =
    start >= 0 && stop > start
      ? `${doc.slice(0, start)}${open}\n${content}\n${doc.slice(stop)}`
      : `${doc}\n${open}\n${content}\n${close}\n`;
  writeFileSync(path, doc);
  console.log(`\nwrote ${path} (${block})`);
}
