/**
 * `npm run chaos`: the scripted faults of issue 7 against the built service (`dist/`), each on a
 * fresh database and an empty Redis of this run's own, with the fake Twilio and SNS of
 * test/fakes in this process. Prints a table and writes docs/RELIABILITY.md.
 *
 *   npm run chaos                                  all scenarios (10-15 min on 2 cores)
 *   npm run chaos -- --only=sigkill,redis          some of them
 *   npm run chaos -- --messages=2000               every drain this size (default: DEFAULT_SIZES)
 *   npm run chaos -- --provider-outage-s=30        shorter outage of both providers (default 120)
 *   npm run chaos -- --label="after the fixes"     the heading of the figures in the doc
 *   npm run chaos -- --write                       write the doc even for a partial run
 *   npm run chaos -- topology [--messages=N]       the scale-out topology (chaos/topology.ts), alone;
 *                                                  TOPOLOGY_MESSAGES=N works too (default 50,000)
 *
 * Exits 1 when any check fails. Service logs: dist/chaos/logs/<run>/.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cleanupAll } from './cleanup';
import { DOC_PATH, table, verdict, writeDoc } from './report';
import { DEFAULT_SIZES, runScenario, ScenarioKey, ScenarioResult, SCENARIOS } from './scenarios';
import { Stack } from './stack';
import {
  runTopology,
  TOPOLOGY_DEFAULT_MESSAGES,
  TOPOLOGY_TITLE,
  topologyBackendsLabel,
  topologyLayoutLabel,
} from './topology';

const DEFAULT_OUTAGE_S = 120;

interface Options {
  /** `npm run chaos -- topology`: that scenario alone (not part of the full run). */
  topology: boolean;
  only: ScenarioKey[];
  /** Every drain's size when given; otherwise DEFAULT_SIZES. */
  messages?: number;
  providerOutageS: number;
  concurrency: number;
  label: string;
  write: boolean;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function parseArgs(argv: string[]): Options {
  const args = new Map<string, string>();
  const topology = argv[0] === 'topology';
  for (const a of topology ? argv.slice(1) : argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    args.set(m[1], m[2] ?? 'true');
  }
  const known = ['only', 'messages', 'provider-outage-s', 'concurrency', 'label', 'write'];
  for (const k of args.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k}`);
  const only = (args.get('only')?.split(',') ?? [...SCENARIOS]).map((s) => s.trim());
  for (const s of only)
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = args.get(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be ${min}..${max}`);
    return n;
  };
  if (topology && args.has('only')) throw new Error('topology runs alone: --only does not apply');
  const topologyEnv = process.env.TOPOLOGY_MESSAGES;
  return {
    topology,
    only: SCENARIOS.filter((s) => only.includes(s)),
    messages: args.has('messages')
      ? int('messages', 0, 10, 100_000)
      : topology && topologyEnv !== undefined
        ? Number(topologyEnv)
        : undefined,
    providerOutageS: int('provider-outage-s', DEFAULT_OUTAGE_S, 5, 3600),
    concurrency: int('concurrency', 20, 1, 1000),
    label: args.get('label') ?? 'Latest run',
    write: args.has('write'),
  };
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'migrations'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.topology) return topology(opts);
  const runId = Date.now().toString(36);
  const logDir = join('dist', 'chaos', 'logs', runId);
  const started = performance.now();
  const size = (key: ScenarioKey) => opts.messages ?? DEFAULT_SIZES[key];
  const sizes = opts.only
    .filter((k) => k !== 'idempotency')
    .map((k) => `${k} ${size(k).toLocaleString('en-US')}`)
    .join(', ');
  say(`chaos run ${runId}: drains of ${sizes}; worker concurrency ${opts.concurrency}; logs in ${logDir}`);
  const stack = new Stack({ workerConcurrency: opts.concurrency, logDir });
  const results: ScenarioResult[] = [];
  try {
    await stack.setup();
    for (const key of opts.only) {
      results.push(
        await runScenario(
          {
            stack,
            runId,
            size,
            concurrency: opts.concurrency,
            providerOutageMs: opts.providerOutageS * 1000,
            say,
          },
          key,
        ),
      );
    }
  } finally {
    await stack.teardown().catch(() => undefined);
    cleanupAll();
  }
  const totalSeconds = (performance.now() - started) / 1000;
  say(`\n${table(results)}\n`);
  const { passed, failed } = verdict(results);
  say(`${passed} PASS, ${failed} FAIL in ${Math.round(totalSeconds)} s`);
  const full =
    opts.only.length === SCENARIOS.length &&
    opts.messages === undefined &&
    opts.providerOutageS === DEFAULT_OUTAGE_S;
  if (full || opts.write) {
    const options =
      `${opts.only.length === SCENARIOS.length ? 'all scenarios' : opts.only.join(', ')}, ` +
      `drains of ${sizes} messages, providers down ${opts.providerOutageS} s, ` +
      `SMS_WORKER_CONCURRENCY ${opts.concurrency}`;
    writeDoc(results, { label: opts.label, commit: commit(), options, totalSeconds });
    say(`wrote ${DOC_PATH}`);
  } else {
    say(`(partial run: ${DOC_PATH} left as it is; pass --write to update it)`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

/** `npm run chaos -- topology`: its own block of docs/RELIABILITY.md, written at full size or with --write. */
async function topology(opts: Options): Promise<void> {
  const messages = opts.messages ?? TOPOLOGY_DEFAULT_MESSAGES;
  if (!Number.isInteger(messages) || messages < 100)
    throw new Error('TOPOLOGY_MESSAGES must be an integer ≥ 100');
  const runId = Date.now().toString(36);
  const logDir = join('dist', 'chaos', 'logs', runId);
  const started = performance.now();
  say(`chaos run ${runId}: topology, ${messages.toLocaleString('en-US')} messages; logs in ${logDir}`);
  const stack = new Stack({ workerConcurrency: opts.concurrency, logDir });
  const r: ScenarioResult = { key: 'topology', title: TOPOLOGY_TITLE, seconds: 0, checks: [], notes: [] };
  try {
    await stack.setup();
    say(`▶ topology: ${TOPOLOGY_TITLE}`);
    await runTopology({ stack, runId, messages, concurrency: opts.concurrency, say }, r);
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
  } finally {
    await stack.teardown().catch(() => undefined);
    cleanupAll();
  }
  r.seconds = (performance.now() - started) / 1000;
  say(`\n${table([r])}\n`);
  const { passed, failed } = verdict([r]);
  say(`${passed} PASS, ${failed} FAIL in ${Math.round(r.seconds)} s`);
  if (messages === TOPOLOGY_DEFAULT_MESSAGES || opts.write) {
    const options =
      `topology, ${messages.toLocaleString('en-US')} messages, SMS_WORKER_CONCURRENCY ${opts.concurrency}, ` +
      `backends: ${topologyBackendsLabel()}, layout: ${topologyLayoutLabel()}`;
    writeDoc([r], { label: opts.label, commit: commit(), options, totalSeconds: r.seconds }, 'TOPOLOGY');
    say(`wrote ${DOC_PATH} (TOPOLOGY)`);
  } else {
    say(`(reduced run: ${DOC_PATH} left as it is; pass --write to update it)`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((e: unknown) => {
  console.error(e);
  cleanupAll();
  process.exit(2);
});
