import type { Micros } from './money';

/** What runs a query: a DataSource, an EntityManager (a transaction), or a QueryRunner. */
export interface SqlRunner {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * The first instant of the UTC month of `d`, of the next month, and the month's label (YYYY-MM).
 * Spend, cost alerts and the cap all count by UTC month.
 */
export function utcMonth(d: Date): { start: Date; end: Date; label: string } {
  const start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  const end = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  return { start, end, label: start.toISOString().slice(0, 7) };
}

/**
 * A tenant's month-to-date spend: per message, the provider's cost where one was reported, else
 * the estimate; counted from acceptance (a message counts from the statement that accepts it);
 * every status but canceled. The spend cap reads it through this port (messaging), and analytics
 * implements it over the stats rollup, so the accept path depends on neither analytics' tables
 * nor monitoring.
 */
export abstract class MonthToDateSpend {
  /** In micro-units of `currency`, for the UTC month of `at`; `db` runs it (e.g. inside a transaction). */
  abstract read(tenantId: number, currency: string, at: Date, db?: SqlRunner): Promise<Micros>;
}
