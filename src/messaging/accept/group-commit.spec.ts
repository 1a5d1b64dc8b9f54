import { commitGroups, isPostgresDataError } from './group-commit';

const dataError = (): Error => Object.assign(new Error('value too long'), { code: '22001' });

/** A fake statement: refuses any batch that holds a group marked bad, records what it wrote. */
function database(bad: Set<string>) {
  const written: string[] = [];
  let statements = 0;
  return {
    written,
    statements: () => statements,
    write: (groups: string[]) => {
      statements += 1;
      if (groups.some((g) => bad.has(g))) return Promise.reject(dataError());
      written.push(...groups);
      return Promise.resolve();
    },
  };
}

describe('commitGroups (group commit split on failure)', () => {
  it('writes every group in one statement when all are good', async () => {
    const db = database(new Set());
    const out = await commitGroups(['a', 'b', 'c'], db.write, isPostgresDataError);
    expect(out).toEqual([null, null, null]);
    expect(db.statements()).toBe(1);
    expect(db.written).toEqual(['a', 'b', 'c']);
  });

  it('fails only the group with the bad row and writes the others', async () => {
    const groups = Array.from({ length: 200 }, (_, i) => `g${i}`);
    const db = database(new Set(['g137']));
    const out = await commitGroups(groups, db.write, isPostgresDataError);
    expect(out.filter((e) => e !== null)).toHaveLength(1);
    expect(out[137]).toMatchObject({ code: '22001' });
    expect(db.written.sort()).toEqual(groups.filter((g) => g !== 'g137').sort());
    expect(db.statements()).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(200)));
  });

  it('isolates several bad groups', async () => {
    const db = database(new Set(['b', 'e']));
    const out = await commitGroups(['a', 'b', 'c', 'd', 'e'], db.write, isPostgresDataError);
    expect(out.map((e) => e !== null)).toEqual([false, true, false, false, true]);
    expect(db.written.sort()).toEqual(['a', 'c', 'd']);
  });

  it('does not retry group by group when the failure is not about the data', async () => {
    let statements = 0;
    const down = new Error('connection terminated');
    const out = await commitGroups(
      ['a', 'b', 'c'],
      () => {
        statements += 1;
        return Promise.reject(down);
      },
      isPostgresDataError,
    );
    expect(out).toEqual([down, down, down]);
    expect(statements).toBe(1);
  });

  it('knows PostgreSQL data errors from others', () => {
    expect(isPostgresDataError({ driverError: { code: '23505' } })).toBe(true);
    expect(isPostgresDataError({ code: '22P05' })).toBe(true);
    expect(isPostgresDataError({ code: '08006' })).toBe(false);
    expect(isPostgresDataError(new Error('x'))).toBe(false);
  });
});
