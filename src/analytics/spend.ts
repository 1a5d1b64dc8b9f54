/**
 * Month-to-date spend as one SQL scalar subquery, read from the coarse stats rollup plus the
 * deltas not folded yet (exact at the statement's snapshot), never by scanning `sms_messages`.
 *
 * Per message it is the provider's cost where one was reported, else the estimate, counted from
 * acceptance and for every status but canceled: over rollup rows that is
 * `actual_cost + estimated_cost - actual_estimated` (the estimates of the messages with a reported
 * cost are replaced by that cost). Days are the UTC days of acceptance, so a UTC month is
 * `day >= first day AND day < first day of the next month`.
 *
 * Each argument is an SQL expression (a column such as `t.id` or a `$n` parameter).
 */
export function monthToDateSpendSql(
  tenantId: string,
  monthStart: string,
  monthEnd: string,
  currency: string,
): string {
  const where = `tenant_id = ${tenantId} AND day >= (${monthStart})::date AND day < (${monthEnd})::date
      AND currency = ${currency} AND status <> 'canceled'`;
  return `(SELECT COALESCE(sum(actual_cost + estimated_cost - actual_estimated), 0)
     FROM (SELECT actual_cost, estimated_cost, actual_estimated FROM sms_tenant_daily_rollup WHERE ${where}
           UNION ALL
           SELECT actual_cost, estimated_cost, actual_estimated FROM sms_rollup_deltas WHERE ${where}) spend)`;
}
