/**
 * `p`, or the error of `late()` when `p` has not settled within `ms` of this process being free to
 * see it settle. A timer that fires late says this process was busy (its event loop blocked, or
 * its host's CPU taken by others), not that the other side was slow, and the answer may be
 * waiting in a socket: Node runs expired timers before it reads sockets, so a plain timer would
 * give up on an answer that had arrived. So a timer late by more than a quarter of `ms` (at least
 * 50 ms) waits `ms` once more, and the rejection itself waits for the next read of sockets
 * (`setImmediate`). A dependency that does not answer while this process is free is given up on
 * after `ms`, as before.
 *
 * `p` itself is not cancelled: a caller that gives up on it handles its late rejection.
 */
export function within<T>(p: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const arm = (extended: boolean): void => {
      const due = performance.now() + ms;
      timer = setTimeout(() => {
        if (!extended && performance.now() - due > stallMs(ms)) return arm(true);
        immediate = setImmediate(() => reject(late()));
      }, ms);
      timer.unref();
    };
    arm(false);
  });
  return Promise.race([p, timeout]).finally(() => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  });
}

/** How late a timer of `ms` may fire before the process counts as having been busy meanwhile. */
function stallMs(ms: number): number {
  return Math.max(50, ms / 4);
}
