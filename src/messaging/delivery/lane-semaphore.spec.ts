import { LaneSemaphore } from './lane-semaphore';

const campaign = { priority: 10, capped: true };
const code = { priority: 1, capped: false };
const promo = { priority: 10, capped: false };

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('LaneSemaphore', () => {
  it('keeps slots free for the fast lanes however many campaign tasks wait', async () => {
    const s = new LaneSemaphore(4, 3);
    const g = gate();
    const started: string[] = [];
    const campaignTasks = Array.from({ length: 10 }, (_, i) =>
      s.run(campaign, async () => {
        started.push(`c${i}`);
        await g.p;
      }),
    );
    expect(started).toEqual(['c0', 'c1', 'c2']);
    const c = s.run(code, async () => {
      started.push('code');
    });
    await c;
    expect(started).toEqual(['c0', 'c1', 'c2', 'code']);
    g.open();
    await Promise.all(campaignTasks);
    expect(started).toHaveLength(11);
  });

  it('gives a freed slot to the best waiting priority, in arrival order within one', async () => {
    const s = new LaneSemaphore(1, 1);
    const g = gate();
    const order: string[] = [];
    const first = s.run(promo, () => g.p);
    const waiting = [
      s.run(promo, async () => void order.push('p1')),
      s.run(campaign, async () => void order.push('c1')),
      s.run({ priority: 2, capped: false }, async () => void order.push('t1')),
      s.run(code, async () => void order.push('k1')),
      s.run(code, async () => void order.push('k2')),
    ];
    g.open();
    await Promise.all([first, ...waiting]);
    expect(order).toEqual(['k1', 'k2', 't1', 'p1', 'c1']);
  });

  it('reserves a quarter of the slots from the capped lane', () => {
    expect(LaneSemaphore.cappedShare(1)).toBe(1);
    expect(LaneSemaphore.cappedShare(2)).toBe(1);
    expect(LaneSemaphore.cappedShare(20)).toBe(15);
  });
});
