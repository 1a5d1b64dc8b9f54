/**
 * Runs `step` (which deletes or moves at most `chunk` rows and says how many) until a step does
 * fewer than `chunk`: a large purge as short transactions. Returns the total.
 */
export async function inChunks(chunk: number, step: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await step();
    total += n;
    if (n < chunk) return total;
  }
}
