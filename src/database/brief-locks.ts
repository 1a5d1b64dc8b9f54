import type { EntityManager } from 'typeorm';

/** SQLSTATE of a lock request not granted within `lock_timeout`. */
export const LOCK_NOT_AVAILABLE = '55P03';

export interface BriefLocks {
  /** How long each lock request of one try waits (its transaction's `lock_timeout`). */
  waitMs: number;
  /** Tries in all, the first included. */
  tries: number;
  /** The pause between tries, drawn uniformly from [min, max] ms so that runs do not line up. */
  pauseMs: readonly [number, number];
}

/**
 * A strong lock on a busy table, taken so that it cannot stall the table's writers for long.
 * While a request for ACCESS EXCLUSIVE waits (behind a reader, say), PostgreSQL queues every
 * later request that conflicts with it behind it too: each insert and update of that table waits
 * as long as the request does. So each try waits `waitMs` at most, and one not granted its locks
 * rolls back and runs again after a pause, instead of one long wait.
 */
export const LEDGER_LOCKS: BriefLocks = { waitMs: 200, tries: 20, pauseMs: [250, 1500] };

/** What runs a transaction (a DataSource). */
export interface Transactional {
  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T>;
}

export function isLockNotAvailable(e: unknown): boolean {
  const err = e as { code?: unknown; driverError?: { code?: unknown } } | null;
  return err?.code === LOCK_NOT_AVAILABLE || err?.driverError?.code === LOCK_NOT_AVAILABLE;
}

/**
 * Runs `work` in a transaction whose lock requests wait at most `locks.waitMs`, again after a
 * pause while they are not granted, up to `locks.tries`. Any other error, and the last try's, is
 * thrown. `work` must be safe to run again: a try that timed out was rolled back whole.
 */
export async function withBriefLocks<T>(
  ds: Transactional,
  work: (m: EntityManager) => Promise<T>,
  locks: BriefLocks = LEDGER_LOCKS,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  const waitMs = Math.max(1, Math.round(locks.waitMs));
  for (let attempt = 1; ; attempt++) {
    try {
      return await ds.transaction(async (m) => {
        await m.query(`SET LOCAL lock_timeout = '${waitMs}ms'`);
        return work(m);
      });
    } catch (e) {
      if (!isLockNotAvailable(e) || attempt >= locks.tries) throw e;
      const [min, max] = locks.pauseMs;
      await sleep(min + Math.random() * (max - min));
    }
  }
}
