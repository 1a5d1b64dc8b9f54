import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The message ledger, range-partitioned by month: `sms_messages` by `id`, `sms_message_events` by
 * `message_id`, with the same bounds (docs/ARCHITECTURE.md, "Partitions of the ledger").
 *
 * New message ids are UUIDv7, whose first 48 bits are the accept's milliseconds, so a month is a
 * range of ids: partition `sms_messages_pYYYY_MM` holds ids from the month's first millisecond to
 * the next month's, and a lookup by id names its partition. The primary key stays `(id)` and the
 * events' foreign key to it stays. Rows from before (UUIDv4 ids, spread over the whole uuid space)
 * stay where they are: the old table becomes the DEFAULT partition `sms_messages_legacy` (the old
 * events table `sms_message_events_legacy`), attached in place, not copied. The few old ids that
 * happen to fall inside a month's range move into that month. The default partition carries one
 * CHECK per month partition (`…_legacy_not_pYYYY_MM`), so attaching a month later never scans it.
 *
 * Taken from the catalog, not written out here, so migrations that ran before this one (another
 * column, index or trigger) are carried over: columns, defaults, CHECKs and NOT NULLs (CREATE TABLE
 * … LIKE), indexes (pg_get_indexdef), foreign keys both ways (pg_get_constraintdef) and triggers
 * (pg_get_triggerdef). A unique index without the partition key cannot exist on a partitioned table:
 * `(campaign_id, recipient_user_id)` is kept by the primary key instead (a campaign's message id is
 * a function of campaign and recipient, `campaignMessageId`), `(provider, provider_message_id)`
 * becomes a plain index (providers' ids are unique by construction; nothing relied on the index
 * refusing one). Both stay as indexes under their names.
 *
 * Migrations run in one transaction each: the conversion holds ACCESS EXCLUSIVE on both tables
 * until it commits. Measured in docs/BENCHMARKS.md ("Partitioned ledger").
 */

const MESSAGES = 'sms_messages';
const EVENTS = 'sms_message_events';
/** Months created ahead of the current one (the `partitions` job keeps SMS_PARTITIONS_AHEAD_MONTHS). */
const AHEAD = 3;

/** The lowest uuid of a millisecond: a UUIDv7 partition bound (src/core/uuid7.ts, frozen here). */
function bound(at: Date): string {
  const h = at.getTime().toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-0000-0000-000000000000`;
}

function monthStart(at: Date, months = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1));
}

function suffix(month: Date): string {
  return `p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

interface Captured {
  /** Indexes that back no constraint, as `CREATE INDEX` statements naming the table. */
  indexes: { name: string; def: string; unique: boolean }[];
  /** The primary key's columns. */
  primaryKey: string[];
  /** Foreign keys this table holds. */
  outgoing: { name: string; def: string }[];
  /** Foreign keys other tables hold to this one. */
  incoming: { table: string; name: string; def: string }[];
  /** Non-internal triggers, as `CREATE TRIGGER` statements naming the table. */
  triggers: string[];
}

async function capture(q: QueryRunner, table: string): Promise<Captured> {
  const indexes: { name: string; def: string; unique: boolean }[] = await q.query(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisunique AS unique
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = $1::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
      ORDER BY c.relname`,
    [table],
  );
  const [pk]: { cols: string[] }[] = await q.query(
    `SELECT array_agg(a.attname::text ORDER BY k.ord) AS cols
       FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = $1::regclass AND a.attnum = k.attnum
      WHERE c.conrelid = $1::regclass AND c.contype = 'p'`,
    [table],
  );
  const outgoing: { name: string; def: string }[] = await q.query(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = $1::regclass AND contype = 'f' AND conparentid = 0 ORDER BY conname`,
    [table],
  );
  const incoming: { table: string; name: string; def: string }[] = await q.query(
    `SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS def
       FROM pg_constraint
      WHERE confrelid = $1::regclass AND contype = 'f' AND conparentid = 0 ORDER BY conname`,
    [table],
  );
  const triggers: { def: string }[] = await q.query(
    `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger
      WHERE tgrelid = $1::regclass AND NOT tgisinternal AND tgparentid = 0 ORDER BY tgname`,
    [table],
  );
  return {
    indexes,
    primaryKey: pk?.cols ?? [],
    outgoing,
    incoming,
    triggers: triggers.map((t) => t.def),
  };
}

/** `CREATE [UNIQUE] INDEX … ON public.<table> …` without UNIQUE when its columns lack `key`. */
function partitionable(def: string, unique: boolean, key: string): string {
  if (!unique) return def;
  const cols = /USING \w+ \(([^)]*)\)/.exec(def)?.[1] ?? '';
  const hasKey = cols.split(',').some((c) => c.trim().replace(/"/g, '') === key);
  return hasKey ? def : def.replace(/^CREATE UNIQUE INDEX/, 'CREATE INDEX');
}

export class PartitionedLedger1764019000000 implements MigrationInterface {
  name = 'PartitionedLedger1764019000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE ${MESSAGES}, ${EVENTS} IN ACCESS EXCLUSIVE MODE`);
    const messages = await capture(q, MESSAGES);
    const events = await capture(q, EVENTS);

    // The foreign keys to the messages come back on the partitioned table, after the move.
    for (const fk of messages.incoming) await q.query(`ALTER TABLE ${fk.table} DROP CONSTRAINT "${fk.name}"`);
    await this.toLegacy(q, MESSAGES);
    await this.toLegacy(q, EVENTS);
    const toMessages = new Set(messages.incoming.map((fk) => fk.name));
    await this.createParent(q, MESSAGES, 'id', messages, toMessages);
    await this.createParent(q, EVENTS, 'message_id', events, toMessages);

    const first = monthStart(new Date());
    for (let m = 0; m <= AHEAD; m++) {
      const month = monthStart(first, m);
      const [lo, hi] = [bound(month), bound(monthStart(month, 1))];
      for (const [table, key] of [
        [MESSAGES, 'id'],
        [EVENTS, 'message_id'],
      ]) {
        await q.query(
          `CREATE TABLE ${table}_${suffix(month)} PARTITION OF ${table} FOR VALUES FROM ('${lo}') TO ('${hi}')`,
        );
        // Old ids that fall in this month (a UUIDv4 is random in all its first 48 bits) move in.
        await q.query(
          `WITH moved AS (DELETE FROM ${table}_legacy WHERE ${key} >= $1 AND ${key} < $2 RETURNING *)
           INSERT INTO ${table} SELECT * FROM moved`,
          [lo, hi],
        );
      }
    }
    // One pass over each legacy table validates every month's CHECK; then attaching it as the
    // default partition scans nothing (the CHECKs imply no row belongs to a month).
    for (const [table, key] of [
      [MESSAGES, 'id'],
      [EVENTS, 'message_id'],
    ]) {
      const checks: string[] = [];
      for (let m = 0; m <= AHEAD; m++) {
        const month = monthStart(first, m);
        checks.push(
          `ADD CONSTRAINT ${table}_legacy_not_${suffix(month)} CHECK (${key} < '${bound(month)}' OR ${key} >= '${bound(monthStart(month, 1))}')`,
        );
      }
      await q.query(`ALTER TABLE ${table}_legacy ${checks.join(', ')}`);
      // A primary key without the partition key (the events' id) is rebuilt with it by the attach.
      if (!(table === MESSAGES ? messages : events).primaryKey.includes(key))
        await q.query(
          `DO $$ DECLARE c text; BEGIN
             SELECT conname INTO c FROM pg_constraint WHERE conrelid = '${table}_legacy'::regclass AND contype = 'p';
             IF c IS NOT NULL THEN EXECUTE format('ALTER TABLE ${table}_legacy DROP CONSTRAINT %I', c); END IF;
           END $$`,
        );
      await q.query(`ALTER TABLE ${table} ATTACH PARTITION ${table}_legacy DEFAULT`);
      // Indexes of the old table that the partitioned one has no counterpart for (its unique
      // ones, rebuilt as plain indexes by the attach; the events' old primary key on id alone).
      const stale: { name: string; con: string | null }[] = await q.query(
        `SELECT c.relname AS name, k.conname AS con
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid
          WHERE i.indrelid = $1::regclass
            AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)`,
        [`${table}_legacy`],
      );
      for (const s of stale)
        await q.query(
          s.con ? `ALTER TABLE ${table}_legacy DROP CONSTRAINT "${s.con}"` : `DROP INDEX "${s.name}"`,
        );
    }
    for (const fk of messages.incoming)
      await q.query(`ALTER TABLE ${fk.table} ADD CONSTRAINT "${fk.name}" ${fk.def}`);
    for (const t of [...messages.triggers, ...events.triggers]) await q.query(t);
    await q.query(`ANALYZE ${MESSAGES}`);
    await q.query(`ANALYZE ${EVENTS}`);
  }

  /** The old table keeps its rows under `<table>_legacy`; its index names free for the new table. */
  private async toLegacy(q: QueryRunner, table: string): Promise<void> {
    const triggers: { name: string }[] = await q.query(
      `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal`,
      [table],
    );
    for (const t of triggers) await q.query(`DROP TRIGGER "${t.name}" ON ${table}`);
    await q.query(`ALTER TABLE ${table} RENAME TO ${table}_legacy`);
    const all: { name: string }[] = await q.query(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = $1::regclass`,
      [`${table}_legacy`],
    );
    for (const { name } of all) {
      const rest = name.startsWith(table) ? name.slice(table.length) : `_${name}`;
      await q.query(`ALTER INDEX "${name}" RENAME TO "${table}_legacy${rest}"`);
    }
  }

  /** The partitioned table, as the old one was (columns, defaults, CHECKs, indexes, foreign keys). */
  private async createParent(
    q: QueryRunner,
    table: string,
    key: string,
    c: Captured,
    /** Foreign keys to the messages, added once both tables are whole. */
    later: Set<string>,
  ): Promise<void> {
    await q.query(
      `CREATE TABLE ${table} (LIKE ${table}_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS
         INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMPRESSION
         INCLUDING STATISTICS INCLUDING COMMENTS) PARTITION BY RANGE (${key})`,
    );
    const pk = c.primaryKey.includes(key) ? c.primaryKey : [...c.primaryKey, key];
    await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_pkey PRIMARY KEY (${pk.join(', ')})`);
    for (const i of c.indexes) await q.query(partitionable(i.def, i.unique, key));
    for (const fk of c.outgoing.filter((f) => !later.has(f.name)))
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT "${fk.name}" ${fk.def}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE ${MESSAGES}, ${EVENTS} IN ACCESS EXCLUSIVE MODE`);
    const messages = await capture(q, MESSAGES);
    const events = await capture(q, EVENTS);
    for (const fk of messages.incoming) await q.query(`ALTER TABLE ${fk.table} DROP CONSTRAINT "${fk.name}"`);
    for (const table of [MESSAGES, EVENTS]) {
      await q.query(`ALTER TABLE ${table} RENAME TO ${table}_partitioned`);
      await q.query(
        `CREATE TABLE ${table} (LIKE ${table}_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS
           INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMPRESSION
           INCLUDING STATISTICS INCLUDING COMMENTS)`,
      );
      await q.query(`INSERT INTO ${table} SELECT * FROM ${table}_partitioned`);
      // The sequence of the events' ids belongs to the legacy table's column: hand it over first.
      await q.query(
        `DO $$ DECLARE s text; BEGIN
           FOR s IN SELECT pg_get_serial_sequence('${table}_legacy', a.attname) FROM pg_attribute a
                     WHERE a.attrelid = '${table}_legacy'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                       AND pg_get_serial_sequence('${table}_legacy', a.attname) IS NOT NULL
           LOOP EXECUTE format('ALTER SEQUENCE %s OWNED BY NONE', s); END LOOP; END $$`,
      );
      await q.query(`DROP TABLE ${table}_partitioned CASCADE`);
    }
    await q.query(`ALTER TABLE ${MESSAGES} ADD CONSTRAINT ${MESSAGES}_pkey PRIMARY KEY (id)`);
    await q.query(`ALTER TABLE ${EVENTS} ADD CONSTRAINT ${EVENTS}_pkey PRIMARY KEY (id)`);
    await q.query(`ALTER SEQUENCE IF EXISTS ${EVENTS}_id_seq OWNED BY ${EVENTS}.id`);
    const uniqueAgain = ['sms_messages_campaign_recipient', 'sms_messages_provider_id'];
    for (const i of messages.indexes)
      await q.query(
        uniqueAgain.includes(i.name) ? i.def.replace(/^CREATE INDEX/, 'CREATE UNIQUE INDEX') : i.def,
      );
    for (const i of events.indexes) await q.query(i.def);
    for (const fk of messages.outgoing)
      await q.query(`ALTER TABLE ${MESSAGES} ADD CONSTRAINT "${fk.name}" ${fk.def}`);
    for (const fk of events.outgoing.filter((f) => !messages.incoming.some((m) => m.name === f.name)))
      await q.query(`ALTER TABLE ${EVENTS} ADD CONSTRAINT "${fk.name}" ${fk.def}`);
    for (const fk of messages.incoming)
      await q.query(`ALTER TABLE ${fk.table} ADD CONSTRAINT "${fk.name}" ${fk.def}`);
    for (const t of [...messages.triggers, ...events.triggers]) await q.query(t);
  }
}
