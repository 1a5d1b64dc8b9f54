import { Batcher } from './batcher';

/** A batcher whose flushes stay open until released by hand, recording each batch. */
function heldBatcher(maxInFlight: number) {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const b = new Batcher<number, number>(
    (xs) => {
      batches.push(xs);
      return new Promise<number[]>((r) => releases.push(() => r(xs)));
    },
    500,
    maxInFlight,
  );
  return { b, batches, releases };
}

describe('Batcher', () => {
  it('flushes items submitted in one tick as one batch and answers each submitter', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number, number>(async (xs) => {
      batches.push(xs);
      return xs.map((x) => x * 10);
    });
    const results = await Promise.all([b.submit(1), b.submit(2), b.submit(3)]);
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('flushes at maxBatch without waiting for the tick', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number, number>(async (xs) => {
      batches.push(xs);
      return xs;
    }, 2);
    await Promise.all([b.submit(1), b.submit(2), b.submit(3)]);
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('rejects every submitter of a failed batch', async () => {
    const b = new Batcher<number, number>(async () => {
      throw new Error('db down');
    });
    await expect(Promise.all([b.submit(1), b.submit(2)])).rejects.toThrow('db down');
  });

  it('with maxInFlight, gathers what arrives during a flush into the next batch, in order', async () => {
    const { b, batches, releases } = heldBatcher(1);
    const first = b.submit(1);
    await new Promise((r) => setImmediate(r));
    const rest = [2, 3, 4].map((x) => b.submit(x));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]); // 2–4 wait for the running flush
    releases[0]();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1], [2, 3, 4]]);
    releases[1]();
    expect(await Promise.all(rest)).toEqual([2, 3, 4]);
  });

  it('with maxInFlight, a batch that throws synchronously rejects its submitters and frees its place', async () => {
    let calls = 0;
    const b = new Batcher<number, number>(
      (xs) => {
        calls += 1;
        if (calls === 1) throw new Error('bad');
        return Promise.resolve(xs);
      },
      500,
      1,
    );
    await expect(b.submit(1)).rejects.toThrow('bad');
    expect(await b.submit(2)).toBe(2);
  });

  it('with maxInFlight, splits a backlog larger than maxBatch over successive flushes', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<number, number>(
      async (xs) => {
        batches.push(xs);
        if (batches.length === 1) await gate;
        return xs;
      },
      2,
      1,
    );
    const all = [1, 2, 3, 4, 5].map((x) => b.submit(x));
    release();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('with maxInFlight, spreads what waits over the free flushes instead of one big batch', async () => {
    const { b, batches, releases } = heldBatcher(2);
    const burst = [1, 2, 3, 4, 5].map((x) => b.submit(x));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]); // two statements side by side, not one of five and an idle place
    releases[0]();
    const more = [6, 7].map((x) => b.submit(x));
    await new Promise((r) => setImmediate(r));
    // One place free: all that waits goes into it.
    expect(batches.slice(2)).toEqual([[6, 7]]);
    releases.slice(1).forEach((r) => r());
    expect(await Promise.all([...burst, ...more])).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
