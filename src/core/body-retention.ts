/**
 * Body retention (docs/privacy.md#body-retention): what a message or inbound body becomes once
 * its tenant's `body_retention_days` (or SMS_BODY_RETENTION_DAYS) has passed.
 */
export function redactedBody(days: number): string {
  return `[redacted after ${days} day${days === 1 ? '' : 's'}]`;
}

/** A PostgreSQL regular expression matching every `redactedBody`: such rows are not rewritten. */
export const REDACTED_BODY_SQL_PATTERN = '^\\[redacted after [0-9]+ days?\\]$';
