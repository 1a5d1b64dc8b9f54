import { setImmediate as nextTurn } from 'node:timers/promises';

/** How long (wall time) one slice of a long loop may hold the event loop before it gives a turn. */
export const SLICE_BUDGET_MS = 3;

/**
 * Calls `step(i)` for every i in [0, count), in order, and gives the event loop a turn whenever a
 * slice has run for `budgetMs`. A long loop over a bulk's rows then holds the process a few ms at
 * a time, and a small request (a verification code) waits for a slice, not for the whole loop. By
 * time, not by count: on a busy host, where the same work takes longer, a slice ends sooner. A
 * short loop never gives a turn.
 */
export async function sliced(
  count: number,
  step: (i: number) => void,
  budgetMs = SLICE_BUDGET_MS,
): Promise<void> {
  let since = performance.now();
  for (let i = 0; i < count; i++) {
    step(i);
    if ((i & 15) === 15 && performance.now() - since >= budgetMs) {
      await nextTurn();
      since = performance.now();
    }
  }
}
