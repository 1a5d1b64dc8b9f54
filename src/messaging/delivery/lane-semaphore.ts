export interface Lane {
  priority: number;
  capped: boolean;
}

/** The task's hold on its slot (given to the task `run` starts). */
export interface Slot<G> {
  /** What the slot's previous holder handed over with it; undefined when the slot was free. */
  readonly gift: G | undefined;
  /**
   * The waiting task this slot would go to if it were given back now, taken out of the queue:
   * null when none waits or that one takes no gift (it was started without a key). The holder
   * must then either `pass` it the slot with a gift or `putBack` the waiter.
   */
  successor(): Successor<G> | null;
}

export interface Successor<G> {
  /** The key the waiting task was started with. */
  readonly key: string;
  /** Hands the slot over with `gift`: the waiting task starts, and the holder's end frees nothing. */
  pass(gift: G): void;
  /** Back in the queue at its place (first of its priority); the holder keeps its slot. */
  putBack(): void;
}

interface Waiter<G> {
  priority: number;
  capped: boolean;
  key: string | undefined;
  /** Arrival order, across the queues of one priority. */
  seq: number;
  go: (gift?: G) => void;
}

/** A FIFO with O(1) ends (a chunk job adds a hundred waiters at once, and thousands may wait). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export class LaneSemaphore<G = never> {
  private active = 0;
  private cappedActive = 0;
  /** Slots held by lanes above `reservedPriority` (all but codes): at most `limit - reserved`. */
  private unreservedActive = 0;
  private waitingCount = 0;
  private seq = 0;
  /** Waiters by priority (kept sorted), each in two FIFOs: capped and not. */
  private readonly queues = new Map<number, { capped: Fifo<Waiter<G>>; free: Fifo<Waiter<G>> }>();
  private priorities: number[] = [];

  /**
   * `limit` slots in all; a capped lane holds at most `cappedLimit`; `reserved` slots only lanes of
   * priority `reservedPriority` or better may take (the others hold at most `limit - reserved`).
   */
  constructor(
    readonly limit: number,
    readonly cappedLimit: number,
    readonly reserved = 0,
    readonly reservedPriority = 1,
  ) {}

  /** Slots a capped lane may hold: all but a quarter of them (at least one kept free when there are two). */
  static cappedShare(limit: number): number {
    return limit <= 1 ? 1 : Math.max(1, limit - Math.max(1, Math.floor(limit / 4)));
  }

  /**
   * Slots kept for the best lane (verification codes): a tenth of them, at least one, from four
   * slots up (below that none: a code still takes the next free slot first). A code then never
   * waits for a slot to free, however many bulk and campaign messages fill the others; the others
   * give up that tenth of the slots to it.
   */
  static reservedShare(limit: number): number {
    return limit < 4 ? 0 : Math.max(1, Math.floor(limit / 10));
  }

  get inUse(): number {
    return this.active;
  }

  /** Runs `task` in a slot; a task started with a `key` may be handed a slot with a gift. */
  async run<T>(lane: Lane, task: (slot: Slot<G>) => Promise<T>, key?: string): Promise<T> {
    let gift: G | undefined;
    if (!this.admits(lane) || this.waitingCount > 0) {
      gift = await new Promise<G | undefined>((go) => {
        this.enqueue({ priority: lane.priority, capped: lane.capped, key, seq: ++this.seq, go }, false);
        this.dispatch();
      });
    } else {
      this.take(lane);
    }
    let passed = false;
    /** A successor taken out of the queue and not yet passed or put back. */
    let reserved: Successor<G> | undefined;
    const slot: Slot<G> = {
      gift,
      successor: () => {
        if (passed || reserved) return null;
        // The waiter `dispatch` would start if this slot were freed.
        const next = this.next(
          this.cappedActive - (lane.capped ? 1 : 0),
          this.unreservedActive - (this.unreserved(lane.priority) ? 1 : 0),
        );
        if (next === undefined || next.key === undefined) return null;
        this.dequeue(next);
        const taken: Successor<G> = {
          key: next.key,
          pass: (g: G) => {
            if (reserved !== taken) return;
            reserved = undefined;
            passed = true;
            // The slot changes hands: only the capped and unreserved counts may move.
            this.cappedActive += (next.capped ? 1 : 0) - (lane.capped ? 1 : 0);
            this.unreservedActive +=
              (this.unreserved(next.priority) ? 1 : 0) - (this.unreserved(lane.priority) ? 1 : 0);
            next.go(g);
          },
          putBack: () => {
            if (reserved !== taken) return;
            reserved = undefined;
            this.enqueue(next, true);
            this.dispatch();
          },
        };
        reserved = taken;
        return taken;
      },
    };
    try {
      return await task(slot);
    } finally {
      // A successor taken out and neither passed nor put back (the task threw) waits again.
      reserved?.putBack();
      if (!passed) {
        this.active -= 1;
        if (lane.capped) this.cappedActive -= 1;
        if (this.unreserved(lane.priority)) this.unreservedActive -= 1;
      }
      this.dispatch();
    }
  }

  /** Last of its priority; first when `first` (a waiter put back where it was). */
  private enqueue(w: Waiter<G>, first: boolean): void {
    let q = this.queues.get(w.priority);
    if (!q) {
      q = { capped: new Fifo(), free: new Fifo() };
      this.queues.set(w.priority, q);
      this.priorities = [...this.priorities, w.priority].sort((a, b) => a - b);
    }
    const fifo = w.capped ? q.capped : q.free;
    if (first) fifo.unshift(w);
    else fifo.push(w);
    this.waitingCount += 1;
  }

  /** Takes out `w`, which `next` returned: the head of its FIFO. */
  private dequeue(w: Waiter<G>): void {
    const q = this.queues.get(w.priority);
    (w.capped ? q?.capped : q?.free)?.shift();
    this.waitingCount -= 1;
  }

  /**
   * The waiter a free slot goes to: of the best priority, the earliest arrived, a capped one only
   * while the capped lane holds fewer than its share (`cappedActive`), one below the reserved
   * priority only while those lanes hold fewer than theirs (`unreservedActive`).
   */
  private next(cappedActive: number, unreservedActive: number): Waiter<G> | undefined {
    for (const priority of this.priorities) {
      // Priorities ascend: past the reserved one, every later lane is held back alike.
      if (this.unreserved(priority) && unreservedActive >= this.limit - this.reserved) return undefined;
      const q = this.queues.get(priority);
      const free = q?.free.peek();
      const capped = cappedActive < this.cappedLimit ? q?.capped.peek() : undefined;
      if (free && capped) return free.seq < capped.seq ? free : capped;
      if (free || capped) return free ?? capped;
    }
    return undefined;
  }

  private unreserved(priority: number): boolean {
    return priority > this.reservedPriority;
  }

  private admits(lane: { priority: number; capped: boolean }): boolean {
    return (
      this.active < this.limit &&
      (!lane.capped || this.cappedActive < this.cappedLimit) &&
      (!this.unreserved(lane.priority) || this.unreservedActive < this.limit - this.reserved)
    );
  }

  private take(lane: { priority: number; capped: boolean }): void {
    this.active += 1;
    if (lane.capped) this.cappedActive += 1;
    if (this.unreserved(lane.priority)) this.unreservedActive += 1;
  }

  /** Starts waiting tasks, best priority first, while slots allow (a capped task may be passed over). */
  private dispatch(): void {
    while (this.active < this.limit) {
      const w = this.next(this.cappedActive, this.unreservedActive);
      if (w === undefined) return;
      this.dequeue(w);
      this.take(w);
      w.go();
    }
  }
}
