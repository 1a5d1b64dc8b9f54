import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap grow past what the last full collection kept before it collects
 * again: 100 % (2×). V8's own choice goes up to 300 % (4×) once its heap limit is 2 GiB or more,
 * as on any host with 8 GiB of memory or more. A busy service process keeps 40–85 MiB (modules,
 * work in flight, a 10,000-number bulk being accepted), but at 4× its heap filled with dead objects
 * up to 190–250 MiB between full collections: peak RSS 290–330 MiB in `npm run bench`, 210–225 MiB
 * at 2× (docs/BENCHMARKS.md, "Peak memory"). The price is more full collections (incremental and
 * concurrent): at 2× about 3 % of the worker path's throughput, inside the runs' spread, and no
 * CPU per `POST /api/sms/send`; 1.5× cost that route 27 % more CPU per request.
 *
 * V8 reads it at each full collection, so it is set before the app's modules load (main.ts imports
 * this file first): the limit set by the collections during start-up would otherwise stand until
 * the heap reached it. A `--heap-growing-percent` given to node (`node --heap-growing-percent=N
 * dist/src/main.js`; 0: V8's own choice) wins.
 */
export const HEAP_GROWING_PERCENT = 100;

if (!process.execArgv.some((a) => /^--heap[-_]growing[-_]percent/.test(a)))
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
