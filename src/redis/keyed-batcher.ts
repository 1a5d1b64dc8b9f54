import { Batcher } from '../common/batcher';

type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/**
 * Requests for one Redis key that arrive together (the same tick, as `Batcher` gathers them) go to
 * Redis as one call for that key (`perKey`, with the items in arrival order), so a caller that
 * sends many requests at once (a platform service behind one token) costs a script call per
 * batch, not per request. Each key is its own call, so a Redis Cluster routes each to its slot; a
 * call that fails fails only its own key's requests.
 */
export class KeyedBatcher<I, O> {
  private readonly batches: Batcher<{ key: string; item: I }, Settled<O>>;

  constructor(perKey: (key: string, items: I[]) => Promise<O[]>, maxBatch = 1000) {
    this.batches = new Batcher(async (asked) => {
      const byKey = new Map<string, number[]>();
      asked.forEach(({ key }, i) => {
        const at = byKey.get(key);
        if (at) at.push(i);
        else byKey.set(key, [i]);
      });
      const out = new Array<Settled<O>>(asked.length);
      await Promise.all(
        [...byKey].map(async ([key, at]) => {
          try {
            const values = await perKey(
              key,
              at.map((i) => asked[i].item),
            );
            at.forEach((i, j) => (out[i] = { ok: true, value: values[j] }));
          } catch (error) {
            for (const i of at) out[i] = { ok: false, error };
          }
        }),
      );
      return out;
    }, maxBatch);
  }

  async submit(key: string, item: I): Promise<O> {
    const settled = await this.batches.submit({ key, item });
    if (!settled.ok) throw settled.error;
    return settled.value;
  }
}
