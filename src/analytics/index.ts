/** The public surface of analytics: stats and cost reports over the daily rollup. */
export { AnalyticsModule } from './analytics.module';
export { AnalyticsService } from './analytics.service';
export { StatsQueryDto } from './analytics.dto';
export type { Scope, StatsInput } from './analytics.service';
export { RollupService } from './rollup.service';
export { bucketUpperMs, latencyBucket, quantileMs } from './latency';
export { monthToDateSpendSql } from './spend';
