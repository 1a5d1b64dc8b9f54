import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../../src/database/data-source';
import { LEDGER_SQL } from '../../../src/messaging/sql/ledger-sql';

const ROOT = join(__dirname, '..', '..', '..');
const SQL_DIR = join(ROOT, 'src', 'messaging', 'sql');
const LEDGER_TABLES = ['sms_messages', 'sms_message_events', 'sms_batches', 'sms_parked_receipts'];

/** Whitespace does not count: PostgreSQL prints a body as written, but indentation is the file's. */
const normal = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/** The definitions of a source file, by its `-- object:` lines. */
function definitions(file: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = readFileSync(join(SQL_DIR, file), 'utf8').split(/^-- object: (.+)$/m);
  for (let i = 1; i < parts.length; i += 2)
    out.set(parts[i].trim(), normal(parts[i + 1].replace(/;\s*$/, '')));
  return out;
}

describe("the message ledger's SQL functions and triggers (src/messaging/sql)", () => {
  let db: DataSource;
  /** What the migrated database runs: every object's definition, by its `object` name. */
  let live: Map<string, string>;

  beforeAll(async () => {
    db = await createDataSource(process.env.DATABASE_URL as string, 2).initialize();
    const rows: { object: string; def: string }[] = await db.query(
      `SELECT 'function ' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' AS object,
              pg_get_functiondef(p.oid) AS def
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.prokind = 'f'
       UNION ALL
       SELECT 'trigger ' || t.tgname, pg_get_triggerdef(t.oid)
         FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgrelid = ANY($1::regclass[])`,
      [LEDGER_TABLES],
    );
    live = new Map(rows.map((r) => [r.object, normal(r.def)]));
  });
  afterAll(() => db.destroy());

  it('lists every trigger on the ledger, and every function those triggers or the worker call', async () => {
    const registered = new Set(LEDGER_SQL.map((o) => o.object));
    const triggers = [...live.keys()].filter((k) => k.startsWith('trigger '));
    expect(triggers.filter((t) => !registered.has(t))).toEqual([]);
    // A function that names a ledger table or is named for it belongs here too.
    const ledgerFunctions = [...live.entries()]
      .filter(([k, def]) => k.startsWith('function ') && LEDGER_TABLES.some((t) => def.includes(t)))
      .map(([k]) => k);
    expect(ledgerFunctions.filter((f) => !registered.has(f))).toEqual([]);
  });

  it.each(LEDGER_SQL.map((o) => [o.object, o] as const))('%s runs exactly its source file', (_, o) => {
    const source = definitions(o.file).get(o.object);
    expect(source).toBeDefined();
    expect(live.get(o.object)).toBe(source);
  });

  it('has a source file for each entry and an entry for each definition in the files', () => {
    const files = readdirSync(SQL_DIR).filter((f) => f.endsWith('.sql'));
    const defined = files.flatMap((f) => [...definitions(f).keys()]);
    expect([...defined].sort()).toEqual(LEDGER_SQL.map((o) => o.object).sort());
  });

  it('names a migration, a caller and a behaviour test that exist for each', () => {
    const migrations = readdirSync(join(ROOT, 'migrations'));
    for (const o of LEDGER_SQL) {
      expect([o.object, migrations.includes(`${o.migration}.ts`)]).toEqual([o.object, true]);
      expect([o.object, existsSync(join(ROOT, o.test))]).toEqual([o.object, true]);
      expect(o.caller.length).toBeGreaterThan(0);
    }
  });
});
