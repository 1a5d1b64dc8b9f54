import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { utcMonthStart, uuidv7Bound } from '../../core/uuid7';
import { BriefLocks, LEDGER_LOCKS, withBriefLocks } from '../../database/brief-locks';

/**
 * The ledger's monthly partitions (docs/ARCHITECTURE.md, "Partitions of the ledger"; migration
 * 1764019000000). `sms_messages` is range-partitioned by `id` (UUIDv7: the accept's millisecond
 * first), `sms_message_events` by `message_id`, with the same bounds: month M is the partition
 * `<table>_pYYYY_MM` of ids from M's first millisecond to the next month's. Everything else (rows
 * from before UUIDv7, an id of a month with no partition) is in the DEFAULT partition
 * `<table>_legacy`, which holds one CHECK per month partition saying none of its rows is in it.
 */
const TABLES = [
  { table: 'sms_messages', key: 'id' },
  { table: 'sms_message_events', key: 'message_id' },
] as const;

/**
 * The statuses retention deletes, as SQL literals: a month is dropped when it holds only these, and
 * `SystemMessagesRepository.deleteFinished` deletes rows in these; the rest are waiting.
 */
export const RETAINED_STATUSES = `'delivered', 'undelivered', 'failed', 'canceled', 'expired', 'sent', 'unknown'`;
const FINAL = `(${RETAINED_STATUSES})`;
/** The waiting statuses, as index `sms_messages_pending` covers them (the check under the lock). */
const WAITING = `('scheduled', 'queued', 'sending')`;

export interface MonthPartition {
  /** `pYYYY_MM`: the partitions are `sms_messages_<suffix>` and `sms_message_events_<suffix>`. */
  suffix: string;
  /** The month's first instant (UTC) and the next month's. */
  from: Date;
  to: Date;
}

function suffixOf(month: Date): string {
  return `p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function monthPartition(month: Date): MonthPartition {
  const from = utcMonthStart(month);
  return { suffix: suffixOf(from), from, to: utcMonthStart(from, 1) };
}

@Injectable()
export class LedgerPartitions {
  private readonly logger = new Logger(LedgerPartitions.name);

  /**
   * How the drop and the CHECKs take their exclusive locks: each request waits 200 ms at most, then
   * the step runs again after a pause, so a reader in the way holds up the ledger's writers for
   * that long, not for the whole wait (`withBriefLocks`). Tests shorten the pauses.
   */
  locks: BriefLocks = LEDGER_LOCKS;

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The month partitions of `sms_messages`, oldest first. */
  async months(): Promise<MonthPartition[]> {
    const rows: { name: string }[] = await this.ds.query(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'sms_messages'::regclass AND c.relname ~ '^sms_messages_p[0-9]{4}_[0-9]{2}$'`,
    );
    return rows
      .map((r) => {
        const [, y, m] = /p(\d{4})_(\d{2})$/.exec(r.name) as RegExpExecArray;
        return monthPartition(new Date(Date.UTC(Number(y), Number(m) - 1, 1)));
      })
      .sort((a, b) => a.from.getTime() - b.from.getTime());
  }

  /** The database's time: the ledger's retention (`deleteFinished`) reads `now()` too. */
  private async dbNow(): Promise<Date> {
    const [{ now }]: { now: Date }[] = await this.ds.query('SELECT now() AS now');
    return now;
  }

  /**
   * Creates the partitions of the month `now` (default: the database's time) is in and of the
   * `ahead` months after it, those missing (idempotent). Returns the suffixes created. The
   * `partitions` job runs it daily.
   */
  async ensureAhead(ahead: number, at?: Date): Promise<string[]> {
    const now = at ?? (await this.dbNow());
    const have = new Set((await this.months()).map((p) => p.suffix));
    const created: string[] = [];
    for (let m = 0; m <= ahead; m++) {
      const p = monthPartition(utcMonthStart(now, m));
      if (have.has(p.suffix)) continue;
      await this.create(p, now);
      created.push(p.suffix);
    }
    if (created.length) this.logger.log({ created }, 'ledger partitions created');
    return created;
  }

  /**
   * One month's partitions, attached without blocking the ledger's readers and writers.
   *
   * 1. The default partition gets the month's CHECK `NOT VALID`: a brief ACCESS EXCLUSIVE lock,
   *    no scan (new rows are checked from now on: no accept makes an id of a month not begun; for
   *    a month that has begun, the job being late, this step moves into the transaction of 2).
   * 2. In one transaction: the month's tables are created apart (LIKE the partitioned ones), the
   *    default partition's rows of the month (old UUIDv4 ids that fall in it, or ids of a month
   *    that began without its partition) move into them, events first, the CHECK is validated
   *    (a scan under SHARE UPDATE EXCLUSIVE: reads and writes go on), and the tables are attached
   *    (the validated CHECK spares the scan of the default partition; the parent is held SHARE
   *    UPDATE EXCLUSIVE only).
   */
  async create(p: MonthPartition, now: Date = new Date()): Promise<void> {
    const [lo, hi] = [uuidv7Bound(p.from), uuidv7Bound(p.to)];
    const addCheck = (table: string, key: string) => {
      const check = `${table}_legacy_not_${p.suffix}`;
      return `DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '${table}_legacy'::regclass AND conname = '${check}') THEN
             ALTER TABLE ${table}_legacy ADD CONSTRAINT ${check} CHECK (${key} < '${lo}' OR ${key} >= '${hi}') NOT VALID;
           END IF;
         END $$`;
    };
    // A month that has begun may be taking rows in the default partition right now: its CHECK is
    // added in the transaction that moves them and attaches the month, so no accept is refused
    // (the default partition is then held exclusively during the scan: the job was late).
    const begun = p.from.getTime() <= now.getTime();
    if (!begun)
      for (const { table, key } of TABLES)
        await withBriefLocks(this.ds, (m) => m.query(addCheck(table, key)), this.locks);
    await withBriefLocks(
      this.ds,
      async (m) => {
        if (begun) for (const { table, key } of TABLES) await m.query(addCheck(table, key));
        for (const { table } of [...TABLES].reverse()) {
          await m.query(`DROP TABLE IF EXISTS ${table}_${p.suffix}`);
          await m.query(
            `CREATE TABLE ${table}_${p.suffix} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS
             INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING STATISTICS)`,
          );
        }
        // Events before their messages (the order of the drop; no foreign key between them now).
        for (const { table, key } of [...TABLES].reverse()) {
          await m.query(
            `WITH moved AS (DELETE FROM ${table}_legacy WHERE ${key} >= $1 AND ${key} < $2 RETURNING *)
           INSERT INTO ${table}_${p.suffix} SELECT * FROM moved`,
            [lo, hi],
          );
        }
        for (const { table } of TABLES) {
          await m.query(`ALTER TABLE ${table}_legacy VALIDATE CONSTRAINT ${table}_legacy_not_${p.suffix}`);
          await m.query(
            `ALTER TABLE ${table} ATTACH PARTITION ${table}_${p.suffix} FOR VALUES FROM ('${lo}') TO ('${hi}')`,
          );
        }
      },
      this.locks,
    );
  }

  /**
   * Retention by partition: drops each month whose partitions hold nothing the row delete would
   * keep — every message in a final status and created before `now − days` — oldest first. A
   * month partly inside the retention, or with a message still pending (one scheduled far
   * ahead), stays and is left to the row delete. Each month is one short transaction: both
   * parents locked, the check, then DETACH and DROP, events first, and the default partition's
   * CHECK for the month goes too (a late id of that month lands there). The lock is asked for in
   * brief tries (`locks`): a month whose locks are never granted waits for the next run. Returns
   * the suffixes dropped.
   */
  async dropExpired(days: number, at?: Date): Promise<string[]> {
    const now = at ?? (await this.dbNow());
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const dropped: string[] = [];
    for (const p of await this.months()) {
      if (p.to.getTime() > cutoff.getTime()) break;
      try {
        // Each month on its own: one still in use (a message scheduled far ahead) keeps only itself.
        if (await this.dropMonth(p, cutoff)) dropped.push(p.suffix);
      } catch (e) {
        // Locks not granted in any try: the next run tries again.
        this.logger.warn({ month: p.suffix, err: (e as Error).message }, 'ledger partition not dropped');
      }
    }
    if (dropped.length) this.logger.log({ dropped }, 'ledger partitions dropped');
    return dropped;
  }

  /** Whether the month holds a row retention would keep: waiting, or created at or after `cutoff`. */
  private async keeps(q: DataSource | EntityManager, p: MonthPartition, cutoff: Date, waiting: string) {
    const [{ kept }]: { kept: boolean }[] = await q.query(
      `SELECT EXISTS (SELECT 1 FROM sms_messages_${p.suffix} WHERE status ${waiting})
           OR EXISTS (SELECT 1 FROM sms_messages_${p.suffix} WHERE created_at >= $1) AS kept`,
      [cutoff],
    );
    return kept;
  }

  private async dropMonth(p: MonthPartition, cutoff: Date): Promise<boolean> {
    // The whole rule first, without a lock (a scan of the month; reads and writes go on), once.
    if (await this.keeps(this.ds, p, cutoff, `NOT IN ${FINAL}`)) return false;
    return withBriefLocks(
      this.ds,
      async (m) => {
        // The parents first, as every statement on the ledger locks them (no lock-order deadlock);
        // the DETACH would take the same lock. Held for index probes and catalog changes only.
        await m.query(`LOCK TABLE sms_messages, sms_message_events IN ACCESS EXCLUSIVE MODE`);
        // What could have changed meanwhile: an `unknown` message queued again by the resolver, or
        // a late row of the month (a campaign's id carries its campaign's time), by their indexes.
        if (await this.keeps(m, p, cutoff, `IN ${WAITING}`)) return false;
        for (const { table } of [...TABLES].reverse()) {
          await m.query(`ALTER TABLE ${table} DETACH PARTITION ${table}_${p.suffix}`);
          await m.query(`DROP TABLE ${table}_${p.suffix}`);
          await m.query(
            `ALTER TABLE ${table}_legacy DROP CONSTRAINT IF EXISTS ${table}_legacy_not_${p.suffix}`,
          );
        }
        return true;
      },
      this.locks,
    );
  }
}
