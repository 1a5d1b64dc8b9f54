import { sliced } from './sliced';

/** Busy for `ms` of wall time. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('sliced', () => {
  it('calls every step once, in order', async () => {
    const seen: number[] = [];
    await sliced(1000, (i) => seen.push(i));
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('gives the event loop a turn once a slice has run for its budget', async () => {
    let doneWhenOtherRan = -1;
    let done = 0;
    setImmediate(() => (doneWhenOtherRan = done));
    // 64 steps of 0.25 ms: 16 ms in all, slices of 4 ms (checked every 16 steps).
    await sliced(
      64,
      () => {
        spin(0.25);
        done += 1;
      },
      4,
    );
    expect(done).toBe(64);
    // All in one go, the other work would have run only after the last step.
    expect(doneWhenOtherRan).toBeGreaterThan(0);
    expect(doneWhenOtherRan).toBeLessThan(64);
  });

  it('gives no turn to a loop that fits in its budget', async () => {
    let otherRan = false;
    setImmediate(() => (otherRan = true));
    await sliced(100, () => undefined, 1_000);
    expect(otherRan).toBe(false);
  });
});
