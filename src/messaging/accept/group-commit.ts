/**
 * Group commit that does not share fate. Concurrent requests' rows are written by one statement;
 * when the database refuses that statement for its data (one bad row), the groups are written
 * again in halves, recursively, so every good request still commits and only the request with the
 * bad row fails (a bad row among n requests costs about 2·log2(n) extra statements). A failure
 * that is not about the data (connection lost, timeout) fails every request at once: retrying
 * them one by one would only multiply the wait.
 *
 * Returns one entry per group: null when written, else the error that refused it.
 */
export async function commitGroups<G>(
  groups: G[],
  write: (groups: G[]) => Promise<void>,
  isDataError: (e: unknown) => boolean,
): Promise<(unknown | null)[]> {
  if (groups.length === 0) return [];
  try {
    await write(groups);
    return groups.map(() => null);
  } catch (e) {
    if (groups.length === 1 || !isDataError(e)) return groups.map(() => e);
    const mid = Math.ceil(groups.length / 2);
    const left = await commitGroups(groups.slice(0, mid), write, isDataError);
    const right = await commitGroups(groups.slice(mid), write, isDataError);
    return [...left, ...right];
  }
}

/**
 * PostgreSQL refused the statement because of a value in it: data exceptions (class 22, e.g. a
 * value too long, invalid text), integrity violations (class 23) and program limits (class 54).
 */
export function isPostgresDataError(e: unknown): boolean {
  const code =
    (e as { code?: unknown; driverError?: { code?: unknown } } | null)?.driverError?.code ??
    (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}
