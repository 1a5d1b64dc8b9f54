import { Injectable } from '@nestjs/common';
import { Principal, isAdmin, isSuperAdmin } from '../auth/principal';
import { Clock } from '../common/clock';
import { ForbiddenError, ValidationFailedError } from '../common/errors';
import { ReplicaReads } from '../database/replica-reads';
import { CODE_MESSAGE_TYPES, formatMoney, parseMoney } from '../core';
import {
  ConversionCellDto,
  ConversionFiguresDto,
  ConversionGroupDto,
  ConversionStatsDto,
  CostReportDto,
  CostRowDto,
  CurrencyCostDto,
  GroupBy,
  StatsFiguresDto,
  StatsGroupDto,
  StatsResponseDto,
} from './analytics.dto';
import { quantileMs } from './latency';

/** Whose figures: one tenant or every tenant (null), and only one creator's for a plain user. */
export interface Scope {
  tenantId: number | null;
  createdBy: string | null;
}

export interface StatsInput {
  start: string;
  end: string;
  groupBy: GroupBy | null;
  messageType?: string;
  provider?: string;
  campaignId?: string;
}

export const MAX_STATS_DAYS = 400;
const DEFAULT_STATS_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * Each `group_by`: the rollup column it groups on, and the group key made from that column's
 * value (applied to the few aggregated cells, not to every rollup row; UTC days).
 */
const GROUP_KEY: Record<GroupBy, { column: string; key: (k: string) => string }> = {
  day: { column: 'day', key: (k) => `to_char(${k}, 'YYYY-MM-DD')` },
  week: { column: 'day', key: (k) => `to_char(date_trunc('week', ${k}), 'YYYY-MM-DD')` },
  month: { column: 'day', key: (k) => `to_char(${k}, 'YYYY-MM')` },
  provider: { column: 'provider', key: (k) => k },
  message_type: { column: 'message_type', key: (k) => k },
  status: { column: 'status', key: (k) => k },
  language: { column: 'language', key: (k) => k },
  campaign: { column: 'campaign_id', key: (k) => `${k}::text` },
  tenant: { column: 'tenant_id', key: (k) => `${k}::text` },
};

/** What the stats query reads of each rollup row (besides the group column). */
const STATS_COLUMNS = 'status, currency, latency_bucket, messages, segments, estimated_cost, actual_cost';

/** What the cost report reads of each rollup row. */
const COST_COLUMNS =
  'tenant_id, provider, message_type, currency, messages, segments, estimated_cost, actual_cost, actual_messages, actual_estimated';

/** A real calendar date 'YYYY-MM-DD' as UTC midnight ms, or null. */
function parseDay(s: string): number | null {
  const t = Date.parse(`${s}T00:00:00Z`);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) return null;
  return t;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * `/api/sms/stats` and `/api/sms/reports/costs`, answered from `sms_daily_rollup` plus the deltas
 * not folded yet (one statement, one snapshot: exact), never from the message ledger itself.
 */
@Injectable()
export class AnalyticsService {
  constructor(
    private readonly reads: ReplicaReads,
    private readonly clock: Clock,
  ) {}

  /** Every figure here is read on the read replica when one serves reads (DATABASE_READ_URL). */
  private query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.reads.run((ds) => ds.query(sql, params));
  }

  /** Who sees what: a plain user their own messages; an admin its tenant; a super_admin any or all. */
  scopeOf(p: Principal, tenantParam: number | undefined, groupBy: GroupBy | null = null): Scope {
    const superAdmin = isSuperAdmin(p);
    if (!superAdmin && tenantParam !== undefined)
      throw new ForbiddenError('tenant_id is for super_admin only');
    if (!superAdmin && groupBy === 'tenant')
      throw new ForbiddenError('group_by=tenant is for super_admin only');
    if (superAdmin) {
      // X-Tenant-Id narrows to that tenant, as tenant_id does; otherwise every tenant.
      const tenantId = tenantParam ?? (p.tenantId !== p.homeTenantId ? p.tenantId : null);
      return { tenantId, createdBy: null };
    }
    return { tenantId: p.tenantId, createdBy: isAdmin(p) ? null : p.userId };
  }

  /** The period: both dates optional (default the last 30 UTC days), inclusive, at most 400 days. */
  period(startDate?: string, endDate?: string): { start: string; end: string } {
    const today = Date.parse(`${this.clock.now().toISOString().slice(0, 10)}T00:00:00Z`);
    const end = endDate === undefined ? today : parseDay(endDate);
    if (end === null) throw ValidationFailedError.field('end_date', 'end_date must be a real calendar date');
    const start = startDate === undefined ? end - (DEFAULT_STATS_DAYS - 1) * DAY_MS : parseDay(startDate);
    if (start === null)
      throw ValidationFailedError.field('start_date', 'start_date must be a real calendar date');
    if (start > end) throw ValidationFailedError.field('start_date', 'start_date must not be after end_date');
    if ((end - start) / DAY_MS + 1 > MAX_STATS_DAYS)
      throw ValidationFailedError.field('end_date', `the period may span at most ${MAX_STATS_DAYS} days`);
    return { start: isoDay(start), end: isoDay(end) };
  }

  async stats(scope: Scope, input: StatsInput): Promise<StatsResponseDto> {
    const params: unknown[] = [input.start, input.end];
    const where = ['day BETWEEN $1::date AND $2::date', ...this.scopeFilter(scope, params)];
    if (input.messageType !== undefined) where.push(`message_type = $${params.push(input.messageType)}`);
    if (input.provider !== undefined) where.push(`provider = $${params.push(input.provider)}`);
    if (input.campaignId !== undefined) where.push(`campaign_id = $${params.push(input.campaignId)}::uuid`);
    const group = input.groupBy === null ? null : GROUP_KEY[input.groupBy];
    const rows: StatsRow[] = await this.query(
      // One pass over the rollup rows into (group column, status, currency, latency) cells, then
      // the group keys and the grouping sets over those few cells rather than every rollup row.
      `WITH src AS (${this.source(scope, where, `${group?.column ?? 'NULL::text'} AS k, ${STATS_COLUMNS}`)}),
       cells AS (
         SELECT ${group ? group.key('k') : 'NULL::text'} AS g, status, currency, latency_bucket,
                sum(messages) AS messages, sum(segments) AS segments,
                sum(estimated_cost) AS estimated_cost, sum(actual_cost) AS actual_cost
           FROM src GROUP BY k, status, currency, latency_bucket
       )
       SELECT g, status, currency, latency_bucket AS lb,
              GROUPING(g) AS gg, GROUPING(status) AS gs, GROUPING(currency) AS gc, GROUPING(latency_bucket) AS gl,
              sum(messages)::text AS messages, sum(segments)::text AS segments,
              trim_scale(sum(estimated_cost))::text AS estimated_cost,
              trim_scale(sum(actual_cost))::text AS actual_cost
         FROM cells
        GROUP BY GROUPING SETS ((g, status), (status), (g, currency), (currency), (g, latency_bucket), (latency_bucket))`,
      params,
    );
    const totals = new FiguresBuilder();
    const groups = new Map<string | null, FiguresBuilder>();
    for (const r of rows) {
      const grouped = r.gg === 0;
      const target = grouped ? mapGet(groups, r.g) : totals;
      if (r.gs === 0) target.addStatus(r.status as string, Number(r.messages), Number(r.segments));
      else if (r.gc === 0)
        target.addMoney(r.currency as string, Number(r.messages), r.estimated_cost, r.actual_cost);
      else if (r.gl === 0 && r.lb !== null) target.addLatency(r.lb, Number(r.messages));
    }
    const groupList: StatsGroupDto[] = [...groups.entries()]
      .map(([k, b]) => ({ key: k, ...b.build() }))
      .filter((g) => g.total !== 0)
      .sort((a, b) =>
        a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
      );
    return {
      period: { start_date: input.start, end_date: input.end },
      group_by: input.groupBy,
      totals: totals.build(),
      groups: input.groupBy === null ? [] : groupList,
      conversion: await this.conversion(scope, input),
    };
  }

  /**
   * Code conversion in the period, from `sms_conversion_rollup` plus the deltas not folded yet
   * (kept by the ledger's conversion trigger): per day, provider, country, and their cells. Null
   * when the filters leave code messages out (a campaign never sends a code).
   */
  private async conversion(scope: Scope, input: StatsInput): Promise<ConversionStatsDto | null> {
    const types = CODE_MESSAGE_TYPES.filter(
      (t) => input.messageType === undefined || t === input.messageType,
    );
    if (types.length === 0 || input.campaignId !== undefined) return null;
    const params: unknown[] = [input.start, input.end, types];
    const where = [
      'day BETWEEN $1::date AND $2::date',
      'message_type = ANY($3::varchar[])',
      ...this.scopeFilter(scope, params),
    ];
    if (input.provider !== undefined) where.push(`provider = $${params.push(input.provider)}`);
    const w = where.join(' AND ');
    const columns = 'day, provider, country, convert_bucket, sent, converted';
    const rows: ConversionRow[] = await this.query(
      // The (day, provider, country, bucket) cells first, then the grouping sets over those few.
      `WITH cells AS (
         SELECT day, provider, country, convert_bucket, sum(sent) AS sent, sum(converted) AS converted
           FROM (SELECT ${columns} FROM sms_conversion_rollup WHERE ${w}
                 UNION ALL
                 SELECT ${columns} FROM sms_conversion_deltas WHERE ${w}) src
          GROUP BY day, provider, country, convert_bucket
       )
       SELECT to_char(day, 'YYYY-MM-DD') AS day, provider, country, convert_bucket AS b,
              GROUPING(day) AS gd, GROUPING(provider) AS gp, GROUPING(country) AS gc,
              sum(sent)::text AS sent, sum(converted)::text AS converted
         FROM cells
        GROUP BY GROUPING SETS ((day, provider, country, convert_bucket), (day, convert_bucket),
                               (provider, convert_bucket), (country, convert_bucket), (convert_bucket))`,
      params,
    );
    const totals = new ConversionBuilder();
    const byDay = new Map<string | null, ConversionBuilder>();
    const byProvider = new Map<string | null, ConversionBuilder>();
    const byCountry = new Map<string | null, ConversionBuilder>();
    const cells = new Map<
      string,
      { day: string; provider: string | null; country: string | null; b: ConversionBuilder }
    >();
    for (const r of rows) {
      let target: ConversionBuilder;
      if (r.gd === 0 && r.gp === 0 && r.gc === 0) {
        const k = JSON.stringify([r.day, r.provider, r.country]);
        let cell = cells.get(k);
        if (!cell)
          cells.set(
            k,
            (cell = {
              day: r.day as string,
              provider: r.provider,
              country: r.country,
              b: new ConversionBuilder(),
            }),
          );
        target = cell.b;
      } else if (r.gd === 0) target = builderOf(byDay, r.day);
      else if (r.gp === 0) target = builderOf(byProvider, r.provider);
      else if (r.gc === 0) target = builderOf(byCountry, r.country);
      else target = totals;
      target.add(Number(r.sent), Number(r.converted), r.b);
    }
    const list = (m: Map<string | null, ConversionBuilder>): ConversionGroupDto[] =>
      [...m.entries()]
        .map(([key, b]) => ({ key, ...b.build() }))
        .filter((g) => !isEmpty(g))
        .sort((a, b) => compareKeys(a.key, b.key));
    const groups: ConversionCellDto[] = [...cells.values()]
      .map((c) => ({ day: c.day, provider: c.provider, country: c.country, ...c.b.build() }))
      .filter((g) => !isEmpty(g))
      .sort(
        (a, b) =>
          compareKeys(a.day, b.day) ||
          compareKeys(a.provider, b.provider) ||
          compareKeys(a.country, b.country),
      );
    return {
      message_types: types,
      totals: totals.build(),
      by_day: list(byDay),
      by_provider: list(byProvider),
      by_country: list(byCountry),
      groups,
    };
  }

  /** A UTC calendar month: messages handed to a provider, per provider, type and (all tenants) tenant. */
  async costReport(scope: Scope, month: string): Promise<CostReportDto> {
    const start = `${month}-01`;
    if (parseDay(start) === null) throw ValidationFailedError.field('month', 'month must be YYYY-MM');
    const params: unknown[] = [start];
    const where = [
      `day >= $1::date AND day < ($1::date + interval '1 month')`,
      'provider IS NOT NULL',
      ...this.scopeFilter(scope, params),
    ];
    const rows: CostSqlRow[] = await this.query(
      `WITH src AS (${this.source(scope, where, COST_COLUMNS)})
       SELECT provider, message_type, tenant_id::text AS tenant_id, currency,
              GROUPING(provider) AS gp, GROUPING(message_type) AS gm, GROUPING(tenant_id) AS gt,
              sum(messages)::text AS messages, sum(segments)::text AS segments,
              trim_scale(sum(estimated_cost))::text AS estimated_cost,
              trim_scale(sum(actual_cost))::text AS actual_cost,
              sum(actual_messages)::text AS actual_messages,
              trim_scale(sum(actual_estimated))::text AS actual_estimated,
              trim_scale(sum(actual_cost) - sum(actual_estimated))::text AS difference
         FROM src
        GROUP BY GROUPING SETS ((provider, currency), (message_type, currency), (tenant_id, currency), (currency))
        ORDER BY 1, 2, 3, currency`,
      params,
    );
    const report: CostReportDto = {
      month,
      tenant_id: scope.tenantId,
      by_provider: [],
      by_message_type: [],
      totals: [],
    };
    const byTenant: CostRowDto[] = [];
    for (const r of rows) {
      if (Number(r.messages) === 0) continue;
      const reported = Number(r.actual_messages) > 0;
      const row: CostRowDto = {
        key: null,
        currency: r.currency,
        messages: Number(r.messages),
        segments: Number(r.segments),
        estimated_cost: r.estimated_cost,
        actual_cost: reported ? r.actual_cost : null,
        actual_messages: Number(r.actual_messages),
        estimated_cost_reported: reported ? r.actual_estimated : null,
        difference: reported ? r.difference : null,
      };
      if (r.gp === 0) report.by_provider.push({ ...row, key: r.provider });
      else if (r.gm === 0) report.by_message_type.push({ ...row, key: r.message_type });
      else if (r.gt === 0) byTenant.push({ ...row, key: r.tenant_id });
      else report.totals.push(row);
    }
    if (scope.tenantId === null) report.by_tenant = byTenant;
    report.by_channel = await this.costsByChannel(scope, start, report.totals);
    return report;
  }

  /**
   * The month's costs per channel: WhatsApp and MMS summed from their own rows (the partial index
   * `sms_messages_other_channels` holds only them), SMS as each currency's totals less those; so
   * the split reads the non-SMS messages only, as `/stats/channels` does.
   */
  private async costsByChannel(scope: Scope, start: string, totals: CostRowDto[]): Promise<CostRowDto[]> {
    const params: unknown[] = [start];
    const where = [
      `channel <> 'sms'`,
      'provider IS NOT NULL',
      `created_at >= ($1::date)::timestamp AT TIME ZONE 'UTC'`,
      `created_at < ($1::date + interval '1 month')::timestamp AT TIME ZONE 'UTC'`,
      ...this.scopeFilter(scope, params),
    ];
    const other: ChannelCostSqlRow[] = await this.query(
      `SELECT channel, currency, count(*)::text AS messages, sum(segments)::text AS segments,
              trim_scale(sum(estimated_cost))::text AS estimated_cost,
              trim_scale(sum(cost))::text AS actual_cost,
              count(cost)::text AS actual_messages,
              trim_scale(sum(estimated_cost) FILTER (WHERE cost IS NOT NULL))::text AS actual_estimated
         FROM sms_messages WHERE ${where.join(' AND ')}
        GROUP BY channel, currency ORDER BY channel, currency`,
      params,
    );
    const money = (v: string | null) => parseMoney(v ?? '0') ?? 0;
    const row = (
      key: string,
      currency: string,
      n: { messages: number; segments: number; est: number; act: number; actN: number; actEst: number },
    ): CostRowDto => ({
      key,
      currency,
      messages: n.messages,
      segments: n.segments,
      estimated_cost: formatMoney(n.est),
      actual_cost: n.actN > 0 ? formatMoney(n.act) : null,
      actual_messages: n.actN,
      estimated_cost_reported: n.actN > 0 ? formatMoney(n.actEst) : null,
      difference: n.actN > 0 ? formatMoney(n.act - n.actEst) : null,
    });
    const sms: CostRowDto[] = [];
    for (const total of totals) {
      const n = {
        messages: total.messages,
        segments: total.segments,
        est: money(total.estimated_cost),
        act: money(total.actual_cost),
        actN: total.actual_messages,
        actEst: money(total.estimated_cost_reported),
      };
      for (const o of other.filter((r) => r.currency === total.currency)) {
        n.messages -= Number(o.messages);
        n.segments -= Number(o.segments);
        n.est -= money(o.estimated_cost);
        n.act -= money(o.actual_cost);
        n.actN -= Number(o.actual_messages);
        n.actEst -= money(o.actual_estimated);
      }
      if (n.messages > 0) sms.push(row('sms', total.currency, n));
    }
    return [
      ...sms,
      ...other.map((o) =>
        row(o.channel, o.currency, {
          messages: Number(o.messages),
          segments: Number(o.segments),
          est: money(o.estimated_cost),
          act: money(o.actual_cost),
          actN: Number(o.actual_messages),
          actEst: money(o.actual_estimated),
        }),
      ),
    ];
  }

  private scopeFilter(scope: Scope, params: unknown[]): string[] {
    const where: string[] = [];
    if (scope.tenantId !== null) where.push(`tenant_id = $${params.push(scope.tenantId)}`);
    if (scope.createdBy !== null) where.push(`created_by = $${params.push(scope.createdBy)}`);
    return where;
  }

  /**
   * Folded rollup rows plus pending deltas, filtered alike (only `columns`). A plain
   * user's figures come from the per-creator rollup; everyone else's from the coarse one (no
   * `created_by`, a fraction of the rows), which the fold keeps equal to the fine one summed.
   */
  private source(scope: Scope, where: string[], columns: string): string {
    const w = where.join(' AND ');
    const table = scope.createdBy === null ? 'sms_tenant_daily_rollup' : 'sms_daily_rollup';
    return `SELECT ${columns} FROM ${table} WHERE ${w}
            UNION ALL
            SELECT ${columns} FROM sms_rollup_deltas WHERE ${w}`;
  }
}

interface StatsRow {
  g: string | null;
  status: string | null;
  currency: string | null;
  lb: number | null;
  gg: number;
  gs: number;
  gc: number;
  gl: number;
  messages: string;
  segments: string;
  estimated_cost: string;
  actual_cost: string;
}

interface ChannelCostSqlRow {
  channel: string;
  currency: string;
  messages: string;
  segments: string;
  estimated_cost: string | null;
  actual_cost: string | null;
  actual_messages: string;
  actual_estimated: string | null;
}

interface CostSqlRow {
  provider: string | null;
  message_type: string | null;
  tenant_id: string | null;
  currency: string;
  gp: number;
  gm: number;
  gt: number;
  messages: string;
  segments: string;
  estimated_cost: string;
  actual_cost: string;
  actual_messages: string;
  actual_estimated: string;
  difference: string;
}

interface ConversionRow {
  day: string | null;
  provider: string | null;
  country: string | null;
  b: number | null;
  gd: number;
  gp: number;
  gc: number;
  sent: string;
  converted: string;
}

/** A group whose messages all moved to another (a provider known later): not shown. */
function isEmpty(f: ConversionFiguresDto): boolean {
  return f.sent === 0 && f.converted === 0;
}

/** Keys in order, null (none) last. */
function compareKeys(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function builderOf(m: Map<string | null, ConversionBuilder>, k: string | null): ConversionBuilder {
  let b = m.get(k);
  if (!b) m.set(k, (b = new ConversionBuilder()));
  return b;
}

/** One group's code messages sent and converted, and the time-to-convert histogram. */
class ConversionBuilder {
  private sent = 0;
  private converted = 0;
  private readonly histogram = new Map<number, number>();

  add(sent: number, converted: number, bucket: number | null): void {
    this.sent += sent;
    this.converted += converted;
    if (bucket !== null && converted !== 0)
      this.histogram.set(bucket, (this.histogram.get(bucket) ?? 0) + converted);
  }

  build(): ConversionFiguresDto {
    return {
      sent: this.sent,
      converted: this.converted,
      conversion_rate: rate(this.converted, this.sent),
      time_to_convert_ms: { p50: quantileMs(this.histogram, 0.5), p95: quantileMs(this.histogram, 0.95) },
    };
  }
}

function mapGet(m: Map<string | null, FiguresBuilder>, k: string | null): FiguresBuilder {
  let b = m.get(k);
  if (!b) m.set(k, (b = new FiguresBuilder()));
  return b;
}

function rate(n: number, d: number): number | null {
  return d === 0 ? null : Math.round((n / d) * 10_000) / 10_000;
}

/** Collects one group's counts (integers), money (exact strings from SQL) and latency histogram. */
class FiguresBuilder {
  private readonly byStatus = new Map<string, number>();
  private segments = 0;
  private readonly money: CurrencyCostDto[] = [];
  private readonly latency = new Map<number, number>();

  addStatus(status: string, messages: number, segments: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + messages);
    this.segments += segments;
  }

  addMoney(currency: string, messages: number, estimated: string, actual: string): void {
    // A currency bucket whose messages all moved away (to another group) is not this group's.
    if (messages !== 0) this.money.push({ currency, estimated_cost: estimated, actual_cost: actual });
  }

  addLatency(bucket: number, messages: number): void {
    this.latency.set(bucket, (this.latency.get(bucket) ?? 0) + messages);
  }

  build(): StatsFiguresDto {
    const n = (s: string) => this.byStatus.get(s) ?? 0;
    const total = [...this.byStatus.values()].reduce((a, b) => a + b, 0);
    const final = n('delivered') + n('undelivered') + n('failed');
    const money = [...this.money].sort((a, b) => (a.currency < b.currency ? -1 : 1));
    const single = money.length === 1 ? money[0] : null;
    return {
      total,
      queued: n('queued') + n('sending'),
      scheduled: n('scheduled'),
      sent: n('sent'),
      delivered: n('delivered'),
      undelivered: n('undelivered'),
      failed: n('failed'),
      canceled: n('canceled'),
      expired: n('expired'),
      unknown: n('unknown'),
      segments: this.segments,
      estimated_cost: single ? single.estimated_cost : money.length === 0 ? '0' : null,
      actual_cost: single ? single.actual_cost : money.length === 0 ? '0' : null,
      currency: single ? single.currency : null,
      costs_by_currency: money,
      delivery_rate: rate(n('delivered'), final),
      failure_rate: rate(n('undelivered') + n('failed'), final),
      delivery_latency_ms: { p50: quantileMs(this.latency, 0.5), p95: quantileMs(this.latency, 0.95) },
    };
  }
}
