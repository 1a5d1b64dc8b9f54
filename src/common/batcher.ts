/**
 * Collects items submitted in the same tick (or up to `maxBatch`) and hands them to `flush` as
 * one batch; each submitter gets its own result. Lets concurrent jobs share one SQL round trip.
 *
 * With `maxInFlight`, at most that many flushes run at once, and items submitted meanwhile wait
 * and go together in the next one (group commit): under load, batches grow instead of the
 * statements multiplying and queueing for pool connections. What waits is spread over the free
 * flushes: a burst with two free goes as two statements side by side, which PostgreSQL runs on
 * two cores, instead of one twice as long while the other place stays idle.
 */
export class Batcher<I, O> {
  private pending: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
    private readonly maxInFlight = Infinity,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.run();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.run());
      }
    });
  }

  private run(): void {
    this.scheduled = false;
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      // The free flushes share what waits (a burst of 100 with two free: two of 50).
      const free = this.maxInFlight - this.inFlight;
      const share = free === Infinity ? this.pending.length : Math.ceil(this.pending.length / free);
      const batch = this.pending.splice(0, Math.min(this.maxBatch, share));
      this.inFlight += 1;
      let flushed: Promise<O[]>;
      try {
        flushed = this.flush(batch.map((p) => p.item));
      } catch (e) {
        flushed = Promise.reject(e);
      }
      flushed
        .then(
          (results) => batch.forEach((p, i) => p.resolve(results[i])),
          (e: unknown) => batch.forEach((p) => p.reject(e)),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.run();
        });
    }
  }
}
