import { KeyedBatcher } from './keyed-batcher';

describe('KeyedBatcher', () => {
  it("makes one call per key for the requests of a tick, each key's items in arrival order", async () => {
    const calls: [string, number[]][] = [];
    const b = new KeyedBatcher<number, string>(async (key, items) => {
      calls.push([key, items]);
      return items.map((x) => `${key}:${x}`);
    });
    const answers = await Promise.all([
      b.submit('a', 1),
      b.submit('b', 2),
      b.submit('a', 3),
      b.submit('a', 4),
      b.submit('b', 5),
    ]);
    expect(answers).toEqual(['a:1', 'b:2', 'a:3', 'a:4', 'b:5']);
    expect(calls).toEqual([
      ['a', [1, 3, 4]],
      ['b', [2, 5]],
    ]);
  });

  it('fails only the requests of the key whose call failed', async () => {
    const b = new KeyedBatcher<number, number>(async (key, items) => {
      if (key === 'down') throw new Error('no answer');
      return items;
    });
    const answers = await Promise.allSettled([b.submit('up', 1), b.submit('down', 2), b.submit('up', 3)]);
    expect(answers).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: new Error('no answer') },
      { status: 'fulfilled', value: 3 },
    ]);
  });

  it('calls again for what comes in a later tick', async () => {
    const calls: number[][] = [];
    const b = new KeyedBatcher<number, number>(async (_, items) => {
      calls.push(items);
      return items;
    });
    await b.submit('k', 1);
    await b.submit('k', 2);
    expect(calls).toEqual([[1], [2]]);
  });
});
