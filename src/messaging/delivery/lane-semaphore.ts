/**
 * In-flight slots shared by priority lanes. A freed slot goes to the waiting task of the best
 * priority (lower first; in arrival order within a priority), so a code that arrives while
 * hundreds of campaign messages wait is next. Tasks of a capped lane (campaign traffic) may hold
 * at most `cappedLimit` slots: the others stay free for the fast lanes however long a campaign is.
 */
export class LaneSemaphore {
  private active = 0;
  private cappedActive = 0;
  private readonly waiting: { priority: number; capped: boolean; go: () => void }[] = [];

  constructor(
    readonly limit: number,
    readonly cappedLimit: number,
  ) {}

  /** Slots a capped lane may hold: all but a quarter of them (at least one kept free when there are two). */
  static cappedShare(limit: number): number {
    return limit <= 1 ? 1 : Math.max(1, limit - Math.max(1, Math.floor(limit / 4)));
  }

  get inUse(): number {
    return this.active;
  }

  async run<T>(lane: { priority: number; capped: boolean }, task: () => Promise<T>): Promise<T> {
    if (!this.admits(lane.capped) || this.waiting.length > 0) {
      await new Promise<void>((go) => {
        // After every waiter of the same or a better priority (arrival order within a lane).
        let at = this.waiting.length;
        while (at > 0 && this.waiting[at - 1].priority > lane.priority) at -= 1;
        this.waiting.splice(at, 0, { priority: lane.priority, capped: lane.capped, go });
        this.dispatch();
      });
    } else {
      this.take(lane.capped);
    }
    try {
      return await task();
    } finally {
      this.active -= 1;
      if (lane.capped) this.cappedActive -= 1;
      this.dispatch();
    }
  }

  private admits(capped: boolean): boolean {
    return this.active < this.limit && (!capped || this.cappedActive < this.cappedLimit);
  }

  private take(capped: boolean): void {
    this.active += 1;
    if (capped) this.cappedActive += 1;
  }

  /** Starts waiting tasks, best priority first, while slots allow (a capped task may be passed over). */
  private dispatch(): void {
    for (let i = 0; i < this.waiting.length && this.active < this.limit;) {
      const w = this.waiting[i];
      if (!this.admits(w.capped)) {
        i += 1;
        continue;
      }
      this.waiting.splice(i, 1);
      this.take(w.capped);
      w.go();
    }
  }
}
