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

  describe('flows (tenants) of one priority', () => {
    it('take turns at the freed slots, however many tasks the first one queued before the others', async () => {
      const s = new LaneSemaphore(1, 1);
      const g = gate();
      const order: string[] = [];
      const first = s.run(promo, () => g.p);
      const bulk = { ...promo, flow: 'tenant-a' };
      const other = { ...promo, flow: 'tenant-b' };
      const capped = { ...campaign, flow: 'tenant-c' };
      const waiting = [
        ...[1, 2, 3, 4].map((i) => s.run(bulk, async () => void order.push(`a${i}`))),
        ...[1, 2].map((i) => s.run(other, async () => void order.push(`b${i}`))),
        ...[1, 2].map((i) => s.run(capped, async () => void order.push(`c${i}`))),
      ];
      g.open();
      await Promise.all([first, ...waiting]);
      // Before flows: a1 a2 a3 a4 b1 b2 c1 c2 (arrival order only).
      expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'a4']);
    });

    it('a flow whose capped lane is full keeps its turn while the others go', async () => {
      const s = new LaneSemaphore(2, 1);
      const g = gate();
      const holdCampaign = s.run({ ...campaign, flow: 'c' }, () => g.p);
      const holdPromo = gate();
      const order: string[] = [];
      const promoHolder = s.run(promo, () => holdPromo.p);
      const waiting = [
        s.run({ ...campaign, flow: 'c' }, async () => void order.push('c1')),
        s.run({ ...promo, flow: 'a' }, async () => void order.push('a1')),
        s.run({ ...promo, flow: 'a' }, async () => void order.push('a2')),
      ];
      holdPromo.open();
      await promoHolder;
      // The one capped slot is held: a1 goes, though c1 was first in turn, then a2 takes a1's slot.
      await new Promise((r) => setImmediate(r));
      expect(order).toEqual(['a1', 'a2']);
      g.open();
      await Promise.all([holdCampaign, ...waiting]);
      expect(order).toEqual(['a1', 'a2', 'c1']);
    });

    it('hands a slot over to the next flow in turn, and a put-back successor keeps its turn', async () => {
      const s = new LaneSemaphore<string>(1, 1);
      const g = gate();
      const order: string[] = [];
      const offered: (string | undefined)[] = [];
      const holder = s.run({ ...promo, flow: 'x' }, async (slot) => {
        await g.p;
        slot.successor()?.pass('gift');
      });
      const waiting = [
        s.run(
          { ...promo, flow: 'a' },
          async (slot) => {
            order.push(`a1:${slot.gift}`);
            const next = slot.successor();
            offered.push(next?.key);
            next?.putBack();
          },
          'a1',
        ),
        s.run({ ...promo, flow: 'a' }, async () => void order.push('a2'), 'a2'),
        s.run({ ...promo, flow: 'b' }, async () => void order.push('b1'), 'b1'),
      ];
      g.open();
      await Promise.all([holder, ...waiting]);
      // a1 had its turn: b1 comes next, ahead of a2 that arrived before it, and stays next when put back.
      expect(offered).toEqual(['b1']);
      expect(order).toEqual(['a1:gift', 'b1', 'a2']);
      expect(s.inUse).toBe(0);
    });
  });

  describe('hand-over (Slot.successor)', () => {
    it('passes the slot with a gift to the task a freed slot would go to: the slot never counts free', async () => {
      const s = new LaneSemaphore<string>(1, 1);
      const g = gate();
      const got: (string | undefined)[] = [];
      let inUseAtStart = -1;
      const holder = s.run(promo, async (slot) => {
        await g.p;
        const next = slot.successor();
        expect(next?.key).toBe('k1'); // the code, ahead of the promotional task that came first
        next?.pass('claimed for k1');
      });
      const waiting = [
        s.run(promo, async (slot) => void got.push(`p1:${slot.gift}`), 'p1'),
        s.run(
          code,
          async (slot) => {
            inUseAtStart = s.inUse;
            got.push(`k1:${slot.gift}`);
          },
          'k1',
        ),
      ];
      g.open();
      await Promise.all([holder, ...waiting]);
      expect(got).toEqual(['k1:claimed for k1', 'p1:undefined']);
      expect(inUseAtStart).toBe(1);
      expect(s.inUse).toBe(0);
    });

    it('offers no successor when the next task takes no gift, and that task keeps its turn', async () => {
      const s = new LaneSemaphore<string>(1, 1);
      const g = gate();
      const order: string[] = [];
      const holder = s.run(promo, async (slot) => {
        await g.p;
        expect(slot.successor()).toBeNull();
      });
      const waiting = [
        s.run(promo, async () => void order.push('keyless')),
        s.run(promo, async () => void order.push('keyed'), 'keyed'),
      ];
      g.open();
      await Promise.all([holder, ...waiting]);
      expect(order).toEqual(['keyless', 'keyed']);
    });

    it('puts a successor back first of its lane, also when the holder throws before passing', async () => {
      const s = new LaneSemaphore<string>(1, 1);
      const g = gate();
      const order: string[] = [];
      const holder = s.run(promo, async (slot) => {
        await g.p;
        expect(slot.successor()?.key).toBe('a');
        throw new Error('the hand-over statement failed');
      });
      const waiting = ['a', 'b'].map((k) =>
        s.run(promo, async (slot) => void order.push(`${k}:${slot.gift}`), k),
      );
      g.open();
      await expect(holder).rejects.toThrow('hand-over statement failed');
      await Promise.all(waiting);
      expect(order).toEqual(['a:undefined', 'b:undefined']);
      expect(s.inUse).toBe(0);
    });

    it('keeps the capped share: a fast-lane holder does not pass its slot to a campaign task over the cap', async () => {
      const s = new LaneSemaphore<string>(2, 1);
      const g = gate();
      const later = gate();
      const started: string[] = [];
      const campaignHolder = s.run(campaign, () => later.p);
      let offered: string | undefined | null;
      const promoHolder = s.run(promo, async (slot) => {
        await g.p;
        const next = slot.successor();
        offered = next?.key ?? null;
        next?.pass('gift');
      });
      const waiting = [
        s.run(campaign, async () => void started.push('c1'), 'c1'),
        s.run(promo, async (slot) => void started.push(`p1:${slot.gift}`), 'p1'),
      ];
      g.open();
      await promoHolder;
      later.open();
      await Promise.all([campaignHolder, ...waiting]);
      // c1 came first, but the one campaign slot was held: p1 was the successor, c1 went after.
      expect(offered).toBe('p1');
      expect(started).toEqual(['p1:gift', 'c1']);
    });
  });

  it('keeps the reserved slots for codes however many promotional and campaign tasks wait', async () => {
    const s = new LaneSemaphore(10, 8, 2, 1);
    const g = gate();
    const started: string[] = [];
    const others = [
      ...Array.from({ length: 12 }, (_, i) =>
        s.run(promo, async () => {
          started.push(`p${i}`);
          await g.p;
        }),
      ),
      ...Array.from({ length: 4 }, (_, i) =>
        s.run(campaign, async () => {
          started.push(`c${i}`);
          await g.p;
        }),
      ),
    ];
    // Eight of the ten: the other lanes hold at most limit - reserved.
    expect(started).toHaveLength(8);
    expect(s.inUse).toBe(8);
    const codes = [
      s.run(code, async () => void started.push('k1')),
      s.run(code, async () => void started.push('k2')),
    ];
    // Both run while every other task still holds its slot.
    await Promise.all(codes);
    expect(started.slice(8)).toEqual(['k1', 'k2']);
    g.open();
    await Promise.all(others);
    expect(started).toHaveLength(18);
  });

  it('never passes a reserved slot down to a lane below the codes', async () => {
    const s = new LaneSemaphore<string>(2, 2, 1, 1);
    const g = gate();
    const holdPromo = s.run(promo, () => g.p); // the one unreserved slot
    let offered: string | null | undefined;
    const codeHolder = s.run(code, async (slot) => {
      offered = slot.successor()?.key ?? null;
    });
    const waitingPromo = s.run(promo, async () => undefined, 'p2');
    await codeHolder;
    // The code's slot was the reserved one: the waiting promotional task may not have it.
    expect(offered).toBeNull();
    expect(s.inUse).toBe(1);
    g.open();
    await Promise.all([holdPromo, waitingPromo]);
    expect(s.inUse).toBe(0);
  });

  it('reserves a tenth of the slots for codes from four slots up', () => {
    expect([1, 3, 4, 20, 100].map(LaneSemaphore.reservedShare)).toEqual([0, 0, 1, 2, 10]);
  });

  it('reserves a quarter of the slots from the capped lane', () => {
    expect(LaneSemaphore.cappedShare(1)).toBe(1);
    expect(LaneSemaphore.cappedShare(2)).toBe(1);
    expect(LaneSemaphore.cappedShare(20)).toBe(15);
  });
});
