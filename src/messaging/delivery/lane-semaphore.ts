export interface Lane {
  priority: number;
  capped: boolean;
  /**
   * Whose task it is (a tenant, or a job when the tenant is not known): the flows of one priority
   * take turns at the freed slots, each in its own arrival order. Tasks without one share a flow.
   */
  flow?: string;
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
  /** The flow's key in its priority's ring (capped and uncapped flows of one name are two). */
  flow: string;
  key: string | undefined;
  go: (gift?: G) => void;
}

/** One flow's waiters, in arrival order. */
interface Flow<G> {
  capped: boolean;
  waiters: Fifo<Waiter<G>>;
}

/**
 * The waiters of one priority: a flow per tenant (or job), and the ring of flows that have any,
 * in turn order (a flow served goes to the back). Flows are few (at most one per running job).
 */
interface Ring<G> {
  flows: Map<string, Flow<G>>;
  turn: Flow<G>[];
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

/**
 * A worker's provider-call slots, shared by the lanes: a freed slot goes to the best priority
 * waiting; within a priority the flows (tenants) take turns, so a tenant's bulk of thousands
 * queued first does not hold back another tenant's campaign or bulk queued after it (each flow
 * keeps its own arrival order). Capped lanes (campaigns) hold at most `cappedLimit` slots, and
 * `reserved` slots are kept for the best lane (codes).
 */
export class LaneSemaphore<G = never> {
  private active = 0;
  private cappedActive = 0;
  /** Slots held by lanes above `reservedPriority` (all but codes): at most `limit - reserved`. */
  private unreservedActive = 0;
  private waitingCount = 0;
  /** Waiters by priority (kept sorted), each priority a ring of flows. */
  private readonly queues = new Map<number, Ring<G>>();
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
        const flow = `${lane.capped ? 'c' : 'f'}:${lane.flow ?? ''}`;
        this.enqueue({ priority: lane.priority, capped: lane.capped, flow, key, go }, false);
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

  /**
   * Last of its flow, the flow last in turn when it had no waiter; with `first` (a waiter put
   * back where it was), first of its flow and the flow first in turn.
   */
  private enqueue(w: Waiter<G>, first: boolean): void {
    let ring = this.queues.get(w.priority);
    if (!ring) {
      ring = { flows: new Map(), turn: [] };
      this.queues.set(w.priority, ring);
      this.priorities = [...this.priorities, w.priority].sort((a, b) => a - b);
    }
    let flow = ring.flows.get(w.flow);
    if (!flow) {
      flow = { capped: w.capped, waiters: new Fifo() };
      ring.flows.set(w.flow, flow);
    }
    if (first) {
      flow.waiters.unshift(w);
      const at = ring.turn.indexOf(flow);
      if (at >= 0) ring.turn.splice(at, 1);
      ring.turn.unshift(flow);
    } else {
      flow.waiters.push(w);
      if (flow.waiters.size === 1) ring.turn.push(flow);
    }
    this.waitingCount += 1;
  }

  /** Takes out `w`, which `next` returned (the head of its flow); its flow's turn is over. */
  private dequeue(w: Waiter<G>): void {
    const ring = this.queues.get(w.priority);
    const flow = ring?.flows.get(w.flow);
    if (!ring || !flow) return;
    flow.waiters.shift();
    this.waitingCount -= 1;
    const at = ring.turn.indexOf(flow);
    if (at >= 0) ring.turn.splice(at, 1);
    if (flow.waiters.size > 0) ring.turn.push(flow);
    else ring.flows.delete(w.flow);
  }

  /**
   * The waiter a free slot goes to: of the best priority, the first in its flow of the first flow
   * in turn, a capped one only while the capped lane holds fewer than its share (`cappedActive`),
   * one below the reserved priority only while those lanes hold fewer than theirs
   * (`unreservedActive`).
   */
  private next(cappedActive: number, unreservedActive: number): Waiter<G> | undefined {
    for (const priority of this.priorities) {
      // Priorities ascend: past the reserved one, every later lane is held back alike.
      if (this.unreserved(priority) && unreservedActive >= this.limit - this.reserved) return undefined;
      const ring = this.queues.get(priority);
      if (!ring) continue;
      for (const flow of ring.turn) {
        if (flow.capped && cappedActive >= this.cappedLimit) continue;
        return flow.waiters.peek();
      }
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
