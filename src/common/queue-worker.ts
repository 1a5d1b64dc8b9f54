import type { Job, Queue } from 'bull';

export interface QueueHandler<T> {
  name: string;
  concurrency: number;
  handle: (job: Job<T>) => Promise<unknown>;
}

type Client = { status: string; once(event: 'ready', fn: () => void): unknown };

function ready(client: Client): Promise<void> {
  return client.status === 'ready'
    ? Promise.resolve()
    : new Promise((r) => void client.once('ready', () => r()));
}

/**
 * Starts a Bull queue's handlers once its Redis connection is ready, and lets shutdown wait for
 * that start to settle.
 *
 * Bull's `process()` starts promises it never handles (it names the blocking connection, waits for
 * the subscriber). When the queue closes while they are still pending, because the process stops
 * right after it started or Redis is not up yet, they reject unhandled: an unhandled rejection
 * ends a Node process, and jest fails whatever test is running. So nothing is started before the
 * queue is ready, and `settled()` keeps the queue open until what was started is connected.
 */
export class QueueWorker<T> {
  private stopped = false;
  private started: Promise<void> | null = null;

  constructor(
    private readonly queue: Queue<T>,
    private readonly onEnd: (e: unknown) => void,
  ) {}

  /** Non-blocking: the process starts (and stays up) through a Redis outage. */
  start(handlers: QueueHandler<T>[]): void {
    this.started = this.queue.isReady().then(
      async () => {
        if (this.stopped) return;
        for (const h of handlers) {
          // process() settles only when the queue closes; a close mid-start rejects: the end of
          // the worker, not an error to crash on.
          this.queue.process(h.name, h.concurrency, (job: Job<T>) => h.handle(job)).catch(this.onEnd);
        }
        const q = this.queue as unknown as Record<'client' | 'eclient' | 'bclient', Client>;
        await Promise.all([ready(q.client), ready(q.eclient), ready(q.bclient)]);
      },
      () => undefined,
    );
  }

  /** Nothing more starts; resolves when what started is connected, or after `maxMs`. */
  async settled(maxMs: number): Promise<void> {
    this.stopped = true;
    if (!this.started) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.started,
      new Promise<void>((r) => {
        timer = setTimeout(r, maxMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
