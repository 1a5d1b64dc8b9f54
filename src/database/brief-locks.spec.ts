import type { EntityManager } from 'typeorm';
import { isLockNotAvailable, withBriefLocks } from './brief-locks';

/** A data source whose transactions record their statements and fail as `failures` says. */
function stubSource(failures: unknown[]) {
  const statements: string[][] = [];
  return {
    statements,
    transaction: async <T>(work: (m: EntityManager) => Promise<T>): Promise<T> => {
      const tx: string[] = [];
      statements.push(tx);
      const m = { query: async (sql: string) => void tx.push(sql) } as unknown as EntityManager;
      const result = await work(m);
      const failure = failures.shift();
      if (failure) throw failure;
      return result;
    },
  };
}

const lockTimeout = Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });

describe('withBriefLocks', () => {
  const locks = { waitMs: 150, tries: 3, pauseMs: [10, 20] as const };

  it('sets the lock wait in each try and runs again after a pause while the locks are not granted', async () => {
    const ds = stubSource([lockTimeout, { driverError: { code: '55P03' } }]);
    const pauses: number[] = [];
    const result = await withBriefLocks(
      ds,
      async (m) => {
        await m.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
        return 'done';
      },
      locks,
      async (ms) => void pauses.push(ms),
    );
    expect(result).toBe('done');
    expect(ds.statements).toEqual(
      Array(3).fill([`SET LOCAL lock_timeout = '150ms'`, 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE']),
    );
    expect(pauses).toHaveLength(2);
    for (const ms of pauses) {
      expect(ms).toBeGreaterThanOrEqual(10);
      expect(ms).toBeLessThanOrEqual(20);
    }
  });

  it('throws the last lock timeout when no try is granted its locks', async () => {
    const ds = stubSource([lockTimeout, lockTimeout, lockTimeout, lockTimeout]);
    await expect(
      withBriefLocks(
        ds,
        async () => 'never',
        locks,
        async () => undefined,
      ),
    ).rejects.toBe(lockTimeout);
    expect(ds.statements).toHaveLength(3);
  });

  it('does not run again on any other error', async () => {
    const other = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const ds = stubSource([other]);
    await expect(
      withBriefLocks(
        ds,
        async () => 'x',
        locks,
        async () => undefined,
      ),
    ).rejects.toBe(other);
    expect(ds.statements).toHaveLength(1);
  });

  it('tells a lock timeout from other errors, on the error or on its driver error', () => {
    expect(isLockNotAvailable(lockTimeout)).toBe(true);
    expect(isLockNotAvailable({ driverError: { code: '55P03' } })).toBe(true);
    expect(isLockNotAvailable({ code: '57014' })).toBe(false);
    expect(isLockNotAvailable(null)).toBe(false);
    expect(isLockNotAvailable('55P03')).toBe(false);
  });
});
