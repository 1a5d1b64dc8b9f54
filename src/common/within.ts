/**
 * `p`, or the error of `late()` when `p` has not settled within `ms`. `p` itself is not cancelled:
 * a caller that gives up on it handles its late rejection.
 */
export function within<T>(p: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
