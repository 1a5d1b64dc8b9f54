import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap grow past what the last full collection kept before it collects
 * again. V8's own choice goes up to 300 % (4×) once its heap limit is 2 GiB or more, as on any
 * host with 8 GiB of memory or more: a busy process's heap then fills with dead objects up to
 * 190–250 MiB between full collections (peak RSS 290–330 MiB in `npm run bench`).
 *
 * - A process that only answers requests (`APP_ROLE=api`) keeps little (40–60 MiB: modules and
 *   the requests in flight) and allocates per request: 100 % (2×). 50 % cost `POST /api/sms/send`
 *   27 % more CPU per request in more full collections.
 * - A process that delivers (`worker`, and `all`, which does both) keeps more: a 10,000-number
 *   bulk being accepted and enqueued, the jobs and batches in flight (70–80 MiB), so its 2× peak
 *   reached 251–254 MiB in bench (b)/(d); at 50 % it peaks at 219–226 MiB, with (b)'s throughput
 *   inside its runs' spread (docs/BENCHMARKS.md, "Issue 21, fourth pass").
 *
 * V8 reads it at each full collection, so it is set before the app's modules load (main.ts imports
 * this file first, with the role of the environment): the limit set by the collections during
 * start-up would otherwise stand until the heap reached it. main.ts sets it again with the role
 * of the loaded settings (`.env` is read after the imports). A `--heap-growing-percent` given to
 * node (`node --heap-growing-percent=N dist/src/main.js`; 0: V8's own choice) wins.
 */
export function heapGrowingPercent(role: string | undefined): number {
  return role === 'api' ? 100 : 50;
}

/** Sets V8's heap growth for a process of this role, unless node was given its own. */
export function applyHeapGrowth(role: string | undefined): void {
  if (!process.execArgv.some((a) => /^--heap[-_]growing[-_]percent/.test(a)))
    setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent(role)}`);
}

applyHeapGrowth(process.env.APP_ROLE);
