import { Batcher } from './batcher';

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
});
